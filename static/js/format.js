// How readings read on a page: "updated 3 min ago", units, city labels, icons.

export const ICONS = {
  clear: "sun",
  "partly-cloudy": "cloud-sun",
  cloudy: "clouds",
  fog: "cloud-fog2",
  drizzle: "cloud-drizzle",
  rain: "cloud-rain",
  snow: "cloud-snow",
  thunderstorm: "cloud-lightning-rain",
};
export const COMPASS = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"];

export function timeAgo(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (seconds < 10) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

export function unitsOf(reading) {
  return reading.units === "imperial"
    ? { temperature: "°F", speed: "mph" }
    : { temperature: "°C", speed: "m/s" };
}

export function cityLabel(city) {
  return [city.name, city.admin1, city.country].filter(Boolean).join(", ");
}

export function dateTime(iso) {
  return iso ? new Date(iso).toLocaleString() : "never";
}
