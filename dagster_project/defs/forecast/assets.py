"""Forecast and variance assets (filled in once the forecasting library lands)."""

ASSETS: list = []
CHECKS: list = []
