"""The members map: cities projected onto the Natural Earth base map in static/img/world.svg.

Equirectangular, in the same 1000 x 500 viewBox as scripts/build_world_map.py drew the countries,
so no tile server (and no network) is needed to show where the members are.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 1000, 500


def project(latitude: float, longitude: float) -> tuple[float, float]:
    """(x, y) in the map's viewBox for a latitude and longitude in degrees."""
    x = (longitude + 180.0) / 360.0 * WIDTH
    y = (90.0 - latitude) / 180.0 * HEIGHT
    return round(x, 1), round(y, 1)


@dataclass(frozen=True)
class MapPoint:
    slug: str
    name: str
    name_local: str
    country_code: str
    x: float
    y: float


def map_points(rows) -> list[MapPoint]:
    """Points for the cities in ``rows`` (objects with slug, names, country and coordinates) that
    have coordinates."""
    points = []
    for row in rows:
        if row.latitude is None or row.longitude is None:
            continue
        x, y = project(row.latitude, row.longitude)
        points.append(MapPoint(row.slug, row.name_en, row.name_local, row.country_code, x, y))
    return points
