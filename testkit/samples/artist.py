"""Drawing on page images: the candidate's hand, the stuck label, the paper and the scanner."""

from __future__ import annotations

import random
import unicodedata

import cv2
import numpy as np

from paper.copy_model import Box, CopyModel

# The scanner's backing plate, seen around a skewed sheet: most document scanners have a
# white one; pass backing=200 (gray) or 40 (black, used for automatic cropping) to try others.
BACKING_GRAY = 250
_TEXT = (
    "la fonction est derivable sur donc on calcule le signe de la derivee puis les variations "
    "soit le systeme etudie en regime permanent la tension aux bornes vaut alors on en deduit "
    "que le rendement du moteur est egal au rapport des puissances d'apres le document reponse "
    "question suivante on remarque que par consequent le resultat obtenu est coherent avec"
)
WORDS = tuple(_TEXT.split())


class Artist:
    """Draws on page images at one resolution; boxes come in mm from the copy model."""

    def __init__(
        self,
        model: CopyModel,
        dpi: int,
        rng: random.Random,
        np_rng: np.random.Generator,
        backing: int = BACKING_GRAY,
    ):
        self.backing = backing
        self.model = model
        self.dpi = dpi
        self.ppm = dpi / 25.4
        self.rng = rng
        self.np_rng = np_rng
        # Paper texture and sensor noise, made once and cropped at random offsets per page:
        # generating a fresh 9-megapixel noise field per page would cost more than the rest.
        height, width = self.page_shape
        margin = 64
        noise = np_rng.normal(0.0, 2.0, (height + margin, width + margin)).astype(np.float32)
        noise += cv2.GaussianBlur(np_rng.normal(0.0, 1.5, noise.shape).astype(np.float32), (0, 0), 6) * 3
        self.noise_up = np.clip(noise, 0, 255).astype(np.uint8)
        self.noise_down = np.clip(-noise, 0, 255).astype(np.uint8)
        self.margin = margin

    @property
    def page_shape(self) -> tuple[int, int]:
        w, h = self.model.page_mm
        return (round(h * self.ppm), round(w * self.ppm))

    def px(self, value_mm: float) -> int:
        return int(round(value_mm * self.ppm))

    # -- the candidate's hand

    def _text(
        self, img: np.ndarray, text: str, x: float, y: float, height_mm: float, ink: int, pen_mm: float = 0.35
    ) -> float:
        """Cursive-like text with its baseline at (x, y) mm; returns the x where it ends, in mm."""
        font = cv2.FONT_HERSHEY_SCRIPT_SIMPLEX
        # Hershey fonts have no accents: "É" would come out as "?".
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        scale = height_mm * self.ppm / 22.0  # the Hershey script font is ~22 px high at scale 1
        thickness = max(1, round(pen_mm * self.ppm))
        cv2.putText(img, text, (self.px(x), self.px(y)), font, scale, ink, thickness, cv2.LINE_AA)
        (width, _), _ = cv2.getTextSize(text, font, scale, thickness)
        return x + width / self.ppm

    def handwriting(self, img: np.ndarray, box: Box, ink: int) -> None:
        """Lines of cursive words on the rules, sometimes a question number or a sketch.

        `ink` is the pen's colour as a gray scanner sees it: blue ink comes out lighter than black.
        """
        x0, y0, w, h = box
        pitch = float(self.model.extra.get("print", {}).get("rule_pitch_mm", 8))
        lines = int(h // pitch)
        filled = self.rng.randint(max(2, lines // 3), lines)
        left = x0 + float(self.model.extra.get("print", {}).get("margin_line_mm", 20)) + 2
        for line in range(filled):
            baseline = y0 + (line + 1) * pitch - 1.2 + self.rng.uniform(-0.6, 0.4)
            x = left + (self.rng.uniform(0, 12) if self.rng.random() < 0.2 else 0)
            end = x0 + w - self.rng.uniform(2, 40 if line < filled - 1 else w * 0.7)
            if line == 0 or self.rng.random() < 0.12:  # a question number in the margin
                self._text(img, f"{self.rng.randint(1, 9)})", x0 + 3, baseline, 4.5, ink)
            while True:
                word = self.rng.choice(WORDS)
                size = self.rng.uniform(3.8, 5.0)
                if x + len(word) * size * 0.55 > end:
                    break
                x = self._text(
                    img, word, x, baseline + self.rng.uniform(-0.3, 0.3), size, ink
                ) + self.rng.uniform(1.5, 3.0)
        for _ in range(self.rng.randint(0, 2)):
            self._scribble(img, box, ink)

    def pencil(self, img: np.ndarray, box: Box, gray: int = 190) -> None:
        """One or two short lines in a hard pencil: a light gray, thin stroke (what the ⅛ image loses)."""
        x0, y0, _, _ = box
        pitch = float(self.model.extra.get("print", {}).get("rule_pitch_mm", 8))
        left = x0 + float(self.model.extra.get("print", {}).get("margin_line_mm", 20)) + 2
        for line in range(self.rng.randint(1, 2)):
            baseline = y0 + (line + 1) * pitch - 1.4
            x = left
            for _ in range(self.rng.randint(2, 4)):
                x = self._text(img, self.rng.choice(WORDS), x, baseline, 4.0, gray, pen_mm=0.15) + 2.0

    def _scribble(self, img: np.ndarray, box: Box, ink: int) -> None:
        """A Bézier stroke: a diagram, an arrow, a crossing-out."""
        x0, y0, w, h = box
        pts = [
            (self.rng.uniform(x0 + 25, x0 + w - 5), self.rng.uniform(y0 + 5, y0 + h - 5)) for _ in range(4)
        ]
        t = np.linspace(0, 1, 60)[:, None]
        p = [np.array(q) for q in pts]
        curve = (1 - t) ** 3 * p[0] + 3 * (1 - t) ** 2 * t * p[1] + 3 * (1 - t) * t**2 * p[2] + t**3 * p[3]
        poly = np.round(curve * self.ppm).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(img, [poly], False, ink, max(1, round(0.4 * self.ppm)), cv2.LINE_AA)

    def identity(self, img: np.ndarray, name: str, birth_date: str, ink: int) -> None:
        surname, _, given = name.partition(" ")
        for key, text in (("surname", surname.upper()), ("given_names", given), ("birth_date", birth_date)):
            if key in self.model.identity_boxes and text:
                x, y, w, h = self.model.identity_boxes[key]
                self._text(img, text, x + 3, y + h - 2.3, 5.5, ink)

    def header_scrawl(self, img: np.ndarray, ink: int) -> None:
        """An answer begun in the header, below the identity boxes: the mask will hide it."""
        _, hy, _, hh = self.model.header
        x = min(box[0] for box in self.model.identity_boxes.values())
        self._text(img, "suite de la question 2 : voir page 3", x + 2, hy + hh - 1.8, 4.2, ink)

    def absent(self, img: np.ndarray) -> None:
        """ABSENT written by the centre across the name boxes, where the candidate would have
        written his name: the answer areas stay empty (and so does the header around the boxes)."""
        widest = max(b[2] for b in self.model.identity_boxes.values())
        boxes = {k: b for k, b in self.model.identity_boxes.items() if b[2] == widest}
        x0 = min(b[0] for b in boxes.values())
        x1 = max(b[0] + b[2] for b in boxes.values())
        y0 = min(b[1] for b in boxes.values())
        y1 = max(b[1] + b[3] for b in boxes.values())
        font = cv2.FONT_HERSHEY_DUPLEX
        thickness = max(2, round(1.2 * self.ppm))
        (tw, th), _ = cv2.getTextSize("ABSENT", font, 1.0, thickness)
        # As large as fits inside the boxes' span, a few millimetres in from every side.
        scale = min((x1 - x0 - 8) * self.ppm / tw, (y1 - y0 - 6) * self.ppm / th)
        (tw, th), _ = cv2.getTextSize("ABSENT", font, scale, thickness)
        org = (self.px((x0 + x1) / 2) - tw // 2, self.px((y0 + y1) / 2) + th // 2)
        cv2.putText(img, "ABSENT", org, font, scale, 25, thickness, cv2.LINE_AA)

    # -- the label

    def paste_label(self, img: np.ndarray, label: np.ndarray, torn: bool) -> None:
        label = label.copy()
        h, w = label.shape
        edge = max(1, round(0.15 * self.ppm))
        cv2.rectangle(label, (0, 0), (w - 1, h - 1), 205, edge)  # the sticker's edge catches the light
        angle = self.rng.uniform(-3.0, 3.0)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        bw, bh = w + self.px(6), h + self.px(6)
        m[0, 2] += (bw - w) / 2
        m[1, 2] += (bh - h) / 2
        # The sticker is opaque: it hides the box's caption. A torn part leaves the page visible.
        paper = self._tear(label) if torn else np.full((h, w), 255, np.uint8)
        turned = cv2.warpAffine(label, m, (bw, bh), flags=cv2.INTER_LINEAR, borderValue=255)
        cover = cv2.warpAffine(paper, m, (bw, bh), flags=cv2.INTER_NEAREST, borderValue=0) > 0
        lx, ly, lw, lh = self.model.label
        cx = self.px(lx + lw / 2 + self.rng.uniform(-1.2, 1.2))
        cy = self.px(ly + lh / 2 + self.rng.uniform(-1.2, 1.2))
        x0, y0 = cx - bw // 2, cy - bh // 2
        region = img[y0 : y0 + bh, x0 : x0 + bw]
        rh, rw = region.shape
        np.copyto(region, turned[:rh, :rw], where=cover[:rh, :rw])

    def _tear(self, label: np.ndarray) -> np.ndarray:
        """Half the label torn away along a ragged line through the middle of its code.

        Returns the mask of what is left of the sticker.
        """
        parts = self.model.extra.get("print", {}).get("label_parts", {})
        cx, _, cw, _ = parts.get("code", (5, 7.5, 22, 22))
        h, w = label.shape
        step = max(2, self.px(1.5))
        left = np.zeros((h, w), np.uint8)
        for top in range(0, h, step):
            cut = self.px(cx + cw * self.rng.uniform(0.35, 0.55))
            label[top : top + step, cut:] = 255
            left[top : top + step, :cut] = 255
        return left

    # -- annex sheet (no code)

    def annex(self, ink: int) -> np.ndarray:
        height, width = self.page_shape
        img = np.full((height, width), 255, np.uint8)
        x0, y0, x1, y1 = self.px(25), self.px(40), width - self.px(25), height - self.px(40)
        step = self.px(5)
        for x in range(x0, x1 + 1, step):
            cv2.line(img, (x, y0), (x, y1), 200, 1)
        for y in range(y0, y1 + 1, step):
            cv2.line(img, (x0, y), (x1, y), 200, 1)
        self._text(img, "Document réponse — annexe", 25, 25, 6, 20)
        box = (25.0, 40.0, (x1 - x0) / self.ppm, (y1 - y0) / self.ppm)
        for _ in range(self.rng.randint(2, 4)):
            self._scribble(img, box, ink)
        return img

    # -- paper and scanner

    def scan(self, img: np.ndarray, rotation: int, skew: float) -> np.ndarray:
        paper = self.rng.randint(228, 244)
        out = cv2.convertScaleAbs(img, alpha=paper / 255.0)
        h, w = out.shape
        ox, oy = self.rng.randrange(self.margin), self.rng.randrange(self.margin)
        cv2.add(out, self.noise_up[oy : oy + h, ox : ox + w], dst=out)
        cv2.subtract(out, self.noise_down[oy : oy + h, ox : ox + w], dst=out)
        if skew:
            # The scanner crops to the skewed sheet's bounding box (its "automatic size"), so a
            # turned sheet keeps its corners; the backing shows around it.
            rad = np.radians(abs(skew))
            bw = int(np.ceil(w * np.cos(rad) + h * np.sin(rad)))
            bh = int(np.ceil(w * np.sin(rad) + h * np.cos(rad)))
            m = cv2.getRotationMatrix2D((w / 2, h / 2), skew, 1.0)
            m[0, 2] += (bw - w) / 2
            m[1, 2] += (bh - h) / 2
            out = cv2.warpAffine(out, m, (bw, bh), flags=cv2.INTER_LINEAR, borderValue=self.backing)
        if rotation == 180:
            out = cv2.rotate(out, cv2.ROTATE_180)
        return out
