"""What the map pages draw by code that is not words: status colours, category glyphs.

The words themselves are in the catalogue (``layers/locale``, read by ``layers.i18n``).
"""

from __future__ import annotations

STATUS_COLOURS = {
    "reported": "#d62728",
    "filed": "#ff7f0e",
    "dispatched": "#1f77b4",
    "in_progress": "#17becf",
    "resolved": "#2ca02c",
    "escalated": "#9467bd",
    "closed": "#7f7f7f",
    "rejected": "#bcbd22",
    "duplicate": "#bcbd22",
}
# one character per category, drawn inside the case marker
CATEGORY_GLYPHS = {
    "city_appearance": "容",
    "street_order": "序",
    "public_facility": "设",
    "road_traffic": "路",
    "greenery": "绿",
    "housing_land": "房",
    "emergency": "急",
    "advertising": "广",
    "construction": "工",
    "waste_sorting": "垃",
    "safety_hazard": "险",
    "stairwell_clutter": "楼",
    "neighbour_dispute": "邻",
    "elder_care": "老",
    "parking": "停",
    "merchant": "商",
}
# the English pages' glyphs: two letters, as a marker holds one Chinese character
CATEGORY_GLYPHS_EN = {
    "city_appearance": "Ap",
    "street_order": "St",
    "public_facility": "Fa",
    "road_traffic": "Rd",
    "greenery": "Gr",
    "housing_land": "Ho",
    "emergency": "Em",
    "advertising": "Ad",
    "construction": "Co",
    "waste_sorting": "Wa",
    "safety_hazard": "Sa",
    "stairwell_clutter": "Sw",
    "neighbour_dispute": "Ne",
    "elder_care": "El",
    "parking": "Pk",
    "merchant": "Me",
}


def category_glyphs(lang: str) -> dict[str, str]:
    """The category glyphs of a page in ``lang``: Chinese characters, or English letters."""
    return CATEGORY_GLYPHS_EN if lang == "en" else CATEGORY_GLYPHS


# the pins of the managers' map: (Font Awesome icon, awesome-markers colour, that colour
# as CSS) by what they mark; the map draws them and the legend shows them from here
PINS = {
    "squads": ("users", "blue", "#38aadd"),
    "service": ("flag", "green", "#72b026"),
    "parking": ("car", "cadetblue", "#436978"),
    "partner": ("heart", "red", "#d63e2a"),
    "merchant": ("shop", "gray", "#575757"),
}
