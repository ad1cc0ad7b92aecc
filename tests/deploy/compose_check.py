"""docker-compose.yml against the Compose specification's JSON schema, vendored beside this file.

compose-spec.json is schema/compose-spec.json of github.com/compose-spec/compose-spec at commit
170098ba07d9f53c383a41bfd4c5166b0a4529a6 (2026-06-23, Apache License 2.0); refresh it from there.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).with_name("compose-spec.json")


def problems(path: Path = ROOT / "docker-compose.yml") -> list[str]:
    """Every place where the file breaks the specification, as `where: why`."""
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    document = yaml.safe_load(path.read_text())
    return [
        f"{error.json_path}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda error: error.json_path)
    ]
