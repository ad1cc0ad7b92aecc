# Placeholder until the deployment issue builds the real multi-stage image.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV PYTHONPATH=/app:/app/platform DJANGO_ENV=prod
CMD ["python", "-m", "uvicorn", "skywatch.asgi:application", "--host", "0.0.0.0", "--port", "8000"]
