"""The key bar: Textual's footer, but it always ends with `? Help`, and a key that does not
fit is left out whole, never cut to its letter (at 80 columns a lone `/` is a key nobody can
read). `?` lists every key. A read-only console does not offer the keys that write (they
still say why they do nothing)."""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

HELP = "question_mark"


def _width(key: FooterKey) -> int:
    """The columns `key` takes, as FooterKey draws it, margins included."""
    pad_key = key.get_component_styles("footer-key--key").padding
    pad_text = key.get_component_styles("footer-key--description").padding
    text = cell_len(key.description) + pad_text.left + pad_text.right if key.description else 0
    margin = key.styles.margin
    return pad_key.left + cell_len(key.key_display) + pad_key.right + text + margin.left + margin.right


class KeyBar(Footer):
    def __init__(self, hide: frozenset[str] = frozenset(), **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.hide = hide
        """The actions not offered."""

    async def recompose(self) -> None:
        await super().recompose()  # the bindings changed: every key is back, then fitted
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        """Keys are in the order the bar keeps them: from the first that would be cut, none;
        then `? Help`, whose room is kept first."""
        keys = list(self.query(FooterKey))
        palette = [k for k in keys if k.has_class("-command-palette") and k.display]
        helps = [k for k in keys if k.key == HELP]
        room = self.size.width - sum(max(_width(k), k.outer_size.width) for k in palette)  # its border too
        room -= sum(_width(k) for k in helps)
        used, cut, last = 0, False, None
        for key in keys:
            if key.has_class("-command-palette") or key in helps:
                continue
            if key.action in self.hide:
                key.display = False
                continue
            used += _width(key)
            cut = cut or used > room
            key.display = not cut
            last = key if not cut else last
        for key in helps:
            key.display = True
            if last is not None and key.parent is last.parent:
                self.move_child(key, after=last)
