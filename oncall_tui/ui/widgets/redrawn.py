"""A Static that costs nothing when what it shows has not changed."""

from __future__ import annotations

from textual.visual import VisualType
from textual.widget import Widget
from textual.widgets import Static

_NOTHING = object()


class Redrawn(Static):
    """Redrawn only when its content changed, and the screen laid out again only when the
    widget's size follows its content: a pane updated every second, or on every move of the
    cursor, costs a frame only when it shows something new (a layout of the whole screen takes
    tens of milliseconds, which the keys would wait for)."""

    _redrawn_content: object = _NOTHING

    def update(self, content: VisualType = "", *, layout: bool | None = None) -> None:
        if content == self._redrawn_content:
            return
        self._redrawn_content = content
        if layout is None:
            width, height = self.styles.width, self.styles.height
            layout = height is None or height.is_auto or (width is not None and width.is_auto)
        super().update(content, layout=layout)


def retitle(widget: Widget, *, title: str | None = None, subtitle: str | None = None) -> None:
    """Set a border's title or subtitle only when it changes: setting one repaints the widget,
    even to the text it has."""
    if title is not None and title != widget.border_title:
        widget.border_title = title
    if subtitle is not None and subtitle != widget.border_subtitle:
        widget.border_subtitle = subtitle
