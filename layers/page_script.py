"""One element that loads gridgov's own scripts after Leaflet and calls an entry point."""

from __future__ import annotations

from typing import Any

from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from layers.templating import safe_json


class PageScript(JSCSSMixin, MacroElement):
    """Calls ``function(target, options)`` once the map exists.

    ``target`` is a JavaScript expression (default: the map the element is added
    to); ``scripts`` are (name, url) pairs loaded in the page head after Leaflet.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this.function }}({{ this.target or this._parent.get_name() }}
          {%- if this.options %}, {{ this.options }}{% endif %});
        {% endmacro %}
    """)

    def __init__(
        self,
        function: str,
        scripts: list[tuple[str, str]],
        options: dict[str, Any] | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__()
        self._name = "PageScript"
        self.function = function
        self.default_js = scripts
        self.target = target
        self.options = safe_json(options) if options is not None else ""
