from django.urls import path

from notifications.consumers import WeatherConsumer

websocket_urlpatterns = [
    path("ws/weather/", WeatherConsumer.as_asgi()),
]
