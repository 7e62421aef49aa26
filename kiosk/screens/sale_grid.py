"""The sale counter's item grid: tiles for produce and goods without a barcode.

A strip of categories ("★ Favourites" first, then the catalogue's categories) over a page of
tiles; ◀ ▶ turn the page. A tile shows the product's picture when the till has one (its ``image``
file, else ``<SKU>.png``, in the till's ``images`` folder) or a plain placeholder, its name and its
price. Tapping a tile calls ``on_pick(product)`` (the sale screen adds it; a weighed product asks
for its weight). Every key is a button at least ``TOUCH_PX`` high that takes no keyboard focus, so
a scanner's Enter never presses one. The grid is read from the store (``GET /v1/product-grid``)
once per category and kept.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from functools import partial
from pathlib import Path
from tkinter import font as tkfont
from typing import Any

import ttkbootstrap as ttk

from kiosk.i18n import N_, T, _, shown
from kiosk.screens.sale_basket import per_kg
from kiosk.widgets import TOUCH_PX

__all__ = ["ItemGrid", "category_label"]

FAVOURITES = ""  # the category key of the favourites page
TILE_W = 118  # a tile's smallest width in pixels
THUMB_PX = 32  # a picture's height on a tile
TILE_FONT = ("Noto Sans", 10)
STRIP_FONT = ("Noto Sans", 9)
STRIP_SIZES = (9, 8, 7)  # a category whose longest word is wider than its button gets smaller
ARROW_PX = 48  # the page keys' width
# the demo catalogue's categories, translated; another store's categories show as they are
CATEGORY_NAMES = {
    "drinks": N_("Drinks"),
    "snacks": N_("Snacks"),
    "dairy": N_("Dairy"),
    "bakery": N_("Bakery"),
    "produce": N_("Fruit & veg"),
    "household": N_("Household"),
    "personal": N_("Personal care"),
    "rice": N_("Rice & noodles"),
}


def _cat(size: int) -> str:
    """The style prefix of the category strip at a font size ("Cat" at the usual size)."""
    return "Cat" if size == STRIP_SIZES[0] else f"Cat{size}"


def category_label(code: str) -> str:
    return _(CATEGORY_NAMES[code]) if code in CATEGORY_NAMES else code.replace("_", " ").title()


def two_lines(text: str, font: Any, width: int) -> str:
    """``text`` broken into at most two lines of ``width`` pixels (the rest elided with …)."""
    measure = tkfont.Font(font=font).measure
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < 2:
        line = words.pop(0)
        while words and measure(f"{line} {words[0]}") <= width:
            line += " " + words.pop(0)
        lines.append(line)
    if words or (lines and measure(lines[-1]) > width):
        last = lines[-1] if lines else ""
        while last and measure(last + "…") > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return "\n".join(lines)


class ItemGrid(ttk.Frame):
    def __init__(
        self,
        parent: Any,
        app: Any,
        on_pick: Callable[[dict], None],
        rows: int = 2,
        image_dir: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.app = app
        self.on_pick = on_pick
        self.rows = rows
        self.image_dir = image_dir or Path(app.data_dir) / "images"
        self.category = FAVOURITES
        self.categories: list[str] = []
        self.products: dict[str, list[dict]] = {}
        self.page = 0
        self.cols = 5
        self.images: dict[str, Any] = {}  # Tk or PIL photo images, by SKU
        self.placeholder = tk.PhotoImage(master=self, width=THUMB_PX, height=THUMB_PX)
        self.placeholder.put("#dee2e6", to=(0, 0, THUMB_PX, THUMB_PX))
        style = ttk.Style()
        for base in ("light.TButton", "secondary.TButton"):
            style.configure(f"Tile.{base}", font=TILE_FONT, justify="center", padding=2)
        for base in ("info.TButton", "primary.TButton"):
            for size in STRIP_SIZES:
                font = (STRIP_FONT[0], size)
                style.configure(f"{_cat(size)}.{base}", font=font, justify="center", padding=1)
        self.strip_fonts = {size: tkfont.Font(self, (STRIP_FONT[0], size)) for size in STRIP_SIZES}
        self.cat_size: dict[str, int] = {}  # the font size each category's button needs
        self.strip = ttk.Frame(self)
        self.strip.pack(fill="x")
        self.tiles = ttk.Frame(self)
        self.tiles.pack(fill="both", expand=True, pady=(4, 0))
        self.cat_buttons: dict[str, ttk.Button] = {}
        self.tile_buttons: list[ttk.Button] = []
        self.prev_button = self._button(self.tiles, "◀", lambda: self.turn(-1), "secondary")
        self.next_button = self._button(self.tiles, "▶", lambda: self.turn(1), "secondary")
        self._width = 0
        self.bind("<Configure>", self._resized, add="+")
        self.load(FAVOURITES)

    def _button(
        self, parent: Any, text: str, cmd: Callable[[], None], style: str, kind: str = "Tile"
    ) -> ttk.Button:
        b = ttk.Button(parent, text=text, bootstyle=style, command=cmd, takefocus="0")
        b.configure(style=f"{kind}.{b.cget('style') or 'TButton'}")
        return b

    # ---------------------------------------------------------------- data
    def load(self, category: str) -> None:
        """Show ``category`` (read from the store the first time)."""
        self.category, self.page = category, 0
        if category in self.products:
            self.draw()
            return

        def ok(res: dict) -> None:
            if not self.winfo_exists():
                return
            self.products[category] = list(res.get("products") or [])
            if list(res.get("categories") or []) != self.categories:
                self.categories = list(res.get("categories") or [])
                self.draw_strip()
            if self.category == category:
                self.draw()

        self.app.worker.read(lambda: self.app.api.grid(category), ok, lambda exc: None, "grid")

    def draw_strip(self) -> None:
        for b in self.cat_buttons.values():
            b.destroy()
        self.cat_buttons = {}
        keys = [FAVOURITES, *self.categories]
        for i, key in enumerate(keys):
            text = "★ " + _("Favourites") if key == FAVOURITES else category_label(key)
            b = self._button(self.strip, shown(text), partial(self.load, key), "info", "Cat")
            col = len(keys) - 1 - i if self.app.rtl else i
            b.grid(row=0, column=col, sticky="nsew", padx=1)
            self.strip.columnconfigure(col, weight=1, uniform="cat", minsize=48)
            self.cat_buttons[key] = b
        self.strip.rowconfigure(0, minsize=TOUCH_PX - 8)
        self._wrap_strip()

    def _wrap_strip(self) -> None:
        """Lines break between words only: a word wider than the button ("Household" at
        1024x768) takes a smaller font instead of being cut in two."""
        n = max(1, len(self.cat_buttons))
        width = max(40, (self.winfo_width() or 600) // n - 6)
        for size in STRIP_SIZES:
            for base in ("info.TButton", "primary.TButton"):
                ttk.Style().configure(f"{_cat(size)}.{base}", wraplength=width)
        for key, b in self.cat_buttons.items():
            words = str(b.cget("text")).split() or [""]
            fits = [
                size
                for size in STRIP_SIZES
                if max(self.strip_fonts[size].measure(w) for w in words) <= width - 4
            ]
            self.cat_size[key] = fits[0] if fits else STRIP_SIZES[-1]
        self._mark()

    def _mark(self) -> None:
        for key, b in self.cat_buttons.items():
            kind = "primary" if key == self.category else "info"
            b.configure(style=f"{_cat(self.cat_size.get(key, STRIP_SIZES[0]))}.{kind}.TButton")

    def _resized(self, event: Any) -> None:
        if abs(event.width - self._width) < 8:
            return
        self._width = event.width
        self.cols = max(3, (event.width - 2 * ARROW_PX) // TILE_W)
        self._wrap_strip()
        self.draw()

    # ---------------------------------------------------------------- tiles
    def page_items(self) -> list[dict]:
        per = self.cols * self.rows
        return self.products.get(self.category, [])[self.page * per : (self.page + 1) * per]

    def turn(self, step: int) -> None:
        per = self.cols * self.rows
        pages = max(1, -(-len(self.products.get(self.category, [])) // per))
        self.page = (self.page + step) % pages
        self.draw()

    def draw(self) -> None:
        self._mark()
        for b in self.tile_buttons:
            b.destroy()
        self.tile_buttons = []
        items = self.page_items()
        cols, rtl = self.cols, self.app.rtl
        last = cols + 1
        self.prev_button.grid(row=0, column=last if rtl else 0, rowspan=self.rows, sticky="ns")
        self.next_button.grid(row=0, column=0 if rtl else last, rowspan=self.rows, sticky="ns")
        for c in range(self.tiles.grid_size()[0]):  # columns of a wider page before
            self.tiles.columnconfigure(c, weight=0, minsize=0, uniform="")
        for c in range(1, cols + 1):
            self.tiles.columnconfigure(c, weight=1, uniform="tile", minsize=TILE_W - 8)
        for c in (0, last):
            self.tiles.columnconfigure(c, weight=0, minsize=ARROW_PX)
        for r in range(self.rows):
            self.tiles.rowconfigure(r, weight=1, uniform="tilerow", minsize=TOUCH_PX + 20)
        width = max(60, ((self._width or self.winfo_width()) - 2 * ARROW_PX) // cols - 12)
        for i, p in enumerate(items):
            name = two_lines(self.app.name_of(p.get("names")), TILE_FONT, width)
            price = self.app.money(int(p.get("price", 0)))
            if p.get("unit") == "kg":
                price = per_kg(price)
            b = self._button(self.tiles, f"{name}\n{price}", partial(self.on_pick, p), "light")
            b.configure(image=self.image_of(p), compound="top")
            b.product = p  # type: ignore[attr-defined]
            col = cols - i % cols if rtl else 1 + i % cols
            b.grid(row=i // cols, column=col, sticky="nsew", padx=2, pady=2)
            self.tile_buttons.append(b)
        if not items:
            empty = ttk.Label(self.tiles, text=T("No items here yet."), anchor="center")
            empty.grid(row=0, column=1, columnspan=cols, sticky="nsew")
            self.tile_buttons.append(empty)  # type: ignore[arg-type]

    def image_of(self, product: dict) -> Any:
        """The product's picture scaled to a tile, or the placeholder."""
        sku = str(product.get("sku", ""))
        if sku in self.images:
            return self.images[sku]
        img: Any = self.placeholder
        name = str(product.get("image") or f"{sku}.png")
        path = self.image_dir / Path(name).name
        if path.is_file():
            try:
                from PIL import Image, ImageTk

                with Image.open(path) as pic:
                    pic.thumbnail((THUMB_PX * 2, THUMB_PX))
                    img = ImageTk.PhotoImage(pic.convert("RGBA"), master=self)
            except Exception:  # not a picture: the placeholder instead
                img = self.placeholder
        self.images[sku] = img
        return img
