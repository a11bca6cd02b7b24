"""Page text in Chinese (default) and English."""

from __future__ import annotations

LANGS = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "title": {"zh": "网格治理地图服务", "en": "Grid governance map service"},
    "community": {"zh": "社区", "en": "Community"},
    "layers": {"zh": "数据图层（GeoJSON）", "en": "Data layers (GeoJSON)"},
    "health": {"zh": "运行状态", "en": "Service health"},
    "grids": {"zh": "网格", "en": "Grids"},
    "districts": {"zh": "商圈", "en": "Business districts"},
    "merchants": {"zh": "商户", "en": "Merchants"},
    "squads": {"zh": "先锋队", "en": "Vanguard squads"},
    "service_points": {"zh": "服务点", "en": "Service points"},
    "parking": {"zh": "停车设施", "en": "Parking"},
    "other_lang": {"zh": "English", "en": "中文"},
    "empty": {"zh": "尚未导入社区数据。", "en": "No community data loaded yet."},
}


def pick_lang(requested: str | None, accept_language: str | None, default: str = "zh") -> str:
    """The page language: ``?lang=`` first, then the browser's preference, then default."""
    if requested in LANGS:
        return requested
    if accept_language:
        first = accept_language.split(",")[0].strip().lower()
        if first.startswith("en"):
            return "en"
        if first.startswith("zh"):
            return "zh"
    return default


def t(key: str, lang: str) -> str:
    return TEXT[key][lang]
