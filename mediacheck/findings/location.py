"""GPS position in the file, and its distance from where the media is claimed to show."""

from __future__ import annotations

import math
from typing import Any

from mediacheck.findings.base import INFO, WARNING, Finding, FindingContext

EARTH_RADIUS_KM = 6371.0088
# A claim usually names a town or district; further than this the GPS fix
# points somewhere else.
FAR_KM = 50.0


def check_location(ctx: FindingContext) -> list[Finding]:
    position = _gps(ctx.summary)
    if position is None:
        return []
    lat, lon = position
    evidence: dict[str, Any] = {
        "latitude": lat,
        "longitude": lon,
        "altitude": ctx.summary.get("gps_altitude"),
    }
    message = (
        f"The file records a GPS position ({lat:.6f}, {lon:.6f}). It is written by the device "
        "and can be edited afterwards, so it supports a location claim but does not prove it."
    )
    findings = []
    if ctx.claimed_location is not None:
        claim = ctx.claimed_location
        distance = round(haversine_km(position, claim), 1)
        evidence.update(claimed_latitude=claim[0], claimed_longitude=claim[1], distance_km=distance)
        message += f" It is {distance:g} km from the claimed location."
        if distance > FAR_KM:
            findings.append(_far_from_claim(position, claim, distance))
    return [Finding("gps-present", INFO, message, evidence), *findings]


def _far_from_claim(
    position: tuple[float, float], claim: tuple[float, float], distance: float
) -> Finding:
    message = (
        f"The GPS position in the file is {distance:g} km from the claimed location. "
        "Either the media was recorded elsewhere, the device had a stale or wrong fix, "
        "or the position was edited: compare landmarks, signs and weather with the claim."
    )
    evidence = {
        "latitude": position[0],
        "longitude": position[1],
        "claimed_latitude": claim[0],
        "claimed_longitude": claim[1],
        "distance_km": distance,
        "threshold_km": FAR_KM,
    }
    return Finding("gps-far-from-claim", WARNING, message, evidence)


def _gps(summary: dict) -> tuple[float, float] | None:
    lat, lon = summary.get("gps_latitude"), summary.get("gps_longitude")
    if not (isinstance(lat, int | float) and isinstance(lon, int | float)):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    # (0, 0) is what devices write when they had no fix at all.
    if lat == 0 and lon == 0:
        return None
    return float(lat), float(lon)


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
