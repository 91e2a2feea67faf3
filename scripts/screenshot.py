#!/usr/bin/env python3
"""Renders a terminal capture with colours (`tmux capture-pane -e -p`) to a PNG.

Usage: screenshot.py CAPTURE.txt OUT.png COLS ROWS

Reads SGR colour sequences (16, 256 and 24-bit colours, bold, dim, reverse, underline),
draws every cell in DejaVu Sans Mono, and draws box-drawing lines and block elements as
shapes, so borders join and bar charts have no gaps. Needs Pillow (`pip install pillow`).
Used by scripts/screenshot.sh for the README's assets/screenshot.png.
"""

import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
SIZE = 15
CELL_H = 19
BG = (28, 30, 34)
FG = (208, 208, 208)
# The 16 ANSI colours (a dark theme close to common terminal defaults).
ANSI = [
    (40, 42, 46), (204, 82, 82), (98, 190, 120), (220, 180, 80),
    (90, 140, 220), (190, 110, 200), (80, 180, 200), (200, 200, 200),
    (110, 112, 118), (240, 110, 110), (130, 220, 150), (240, 210, 110),
    (120, 170, 240), (220, 140, 230), (110, 210, 230), (245, 245, 245),
]


def xterm256(n):
    if n < 16:
        return ANSI[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[n // 6 % 6], steps[n % 6])
    v = 8 + 10 * (n - 232)
    return (v, v, v)


class Style:
    def __init__(self):
        self.fg = None
        self.bg = None
        self.bold = self.dim = self.reverse = self.underline = False

    def copy(self):
        s = Style()
        s.__dict__.update(self.__dict__)
        return s

    def apply(self, params):
        i = 0
        while i < len(params):
            p = params[i]
            if p == 0:
                self.__init__()
            elif p == 1:
                self.bold = True
            elif p == 2:
                self.dim = True
            elif p == 4:
                self.underline = True
            elif p == 7:
                self.reverse = True
            elif p == 22:
                self.bold = self.dim = False
            elif p == 24:
                self.underline = False
            elif p == 27:
                self.reverse = False
            elif 30 <= p <= 37:
                self.fg = ANSI[p - 30]
            elif 90 <= p <= 97:
                self.fg = ANSI[p - 90 + 8]
            elif 40 <= p <= 47:
                self.bg = ANSI[p - 40]
            elif 100 <= p <= 107:
                self.bg = ANSI[p - 100 + 8]
            elif p == 39:
                self.fg = None
            elif p == 49:
                self.bg = None
            elif p in (38, 48) and i + 1 < len(params):
                if params[i + 1] == 5 and i + 2 < len(params):
                    colour = xterm256(params[i + 2])
                    i += 2
                elif params[i + 1] == 2 and i + 4 < len(params):
                    colour = tuple(params[i + 2:i + 5])
                    i += 4
                else:
                    colour = None
                if p == 38:
                    self.fg = colour
                else:
                    self.bg = colour
            i += 1


def parse(text, cols, rows):
    """The screen as rows of (char, style) cells."""
    screen = []
    for line in text.split("\n")[:rows]:
        style = Style()
        cells = []
        for token in re.split(r"(\x1b\[[0-9;:]*m)", line):
            if token.startswith("\x1b["):
                body = token[2:-1].replace(":", ";")
                style.apply([int(x) if x else 0 for x in body.split(";")] if body else [0])
                continue
            for ch in token:
                cells.append((ch, style.copy()))
        cells += [(" ", Style())] * (cols - len(cells))
        screen.append(cells[:cols])
    while len(screen) < rows:
        screen.append([(" ", Style())] * cols)
    return screen


# Box drawing: (up, down, left, right) widths, 1 light, 2 heavy.
BOX = {
    "─": (0, 0, 1, 1), "│": (1, 1, 0, 0), "┌": (0, 1, 0, 1), "┐": (0, 1, 1, 0),
    "└": (1, 0, 0, 1), "┘": (1, 0, 1, 0), "━": (0, 0, 2, 2), "┃": (2, 2, 0, 0),
    "┏": (0, 2, 0, 2), "┓": (0, 2, 2, 0), "┗": (2, 0, 0, 2), "┛": (2, 0, 2, 0),
}
EIGHTHS = {"█": 8, "▉": 7, "▊": 6, "▋": 5, "▌": 4, "▍": 3, "▎": 2, "▏": 1}


def render(screen, out, cols, rows):
    regular = ImageFont.truetype(FONT_DIR + "DejaVuSansMono.ttf", SIZE)
    bold = ImageFont.truetype(FONT_DIR + "DejaVuSansMono-Bold.ttf", SIZE)
    cw = round(regular.getlength("M"))
    pad = 8
    img = Image.new("RGB", (cols * cw + 2 * pad, rows * CELL_H + 2 * pad), BG)
    draw = ImageDraw.Draw(img)
    for y, row in enumerate(screen):
        for x, (ch, s) in enumerate(row):
            fg, bg = s.fg or FG, s.bg or BG
            if s.reverse:
                fg, bg = bg, fg
            if s.dim:
                fg = tuple((a + b) // 2 for a, b in zip(fg, bg))
            x0, y0 = pad + x * cw, pad + y * CELL_H
            x1, y1 = x0 + cw, y0 + CELL_H
            if bg != BG:
                draw.rectangle([x0, y0, x1 - 1, y1 - 1], fill=bg)
            if ch in BOX:
                up, down, left, right = BOX[ch]
                cx, cy = x0 + cw // 2, y0 + CELL_H // 2
                for w, box in (
                    (up, [cx, y0, cx, cy]), (down, [cx, cy, cx, y1 - 1]),
                    (left, [x0, cy, cx, cy]), (right, [cx, cy, x1 - 1, cy]),
                ):
                    if w:
                        draw.line(box, fill=fg, width=w)
            elif ch in EIGHTHS:
                draw.rectangle([x0, y0 + 2, x0 + cw * EIGHTHS[ch] // 8 - 1, y1 - 3], fill=fg)
            elif ch != " ":
                font = bold if s.bold else regular
                draw.text((x0, y0 + 1), ch, font=font, fill=fg)
            if s.underline:
                draw.line([x0, y1 - 2, x1 - 1, y1 - 2], fill=fg)
    img.save(out)


def main():
    capture, out, cols, rows = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with open(capture, encoding="utf-8") as f:
        screen = parse(f.read(), cols, rows)
    render(screen, out, cols, rows)


if __name__ == "__main__":
    main()
