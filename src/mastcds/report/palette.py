"""The report's colours, in one place so that the figure and the HTML mean the same thing.

Okabe-Ito colour-universal-design set: distinguishable with protanopia,
deuteranopia and tritanopia (Okabe M, Ito K, "Color Universal Design (CUD):
how to make figures and presentations that are friendly to colorblind people",
2002/2008, https://jfly.uni-koeln.de/color/; republished by Wong B, Nature
Methods 2011;8:441). Severity is also carried by marker shape and height, so
nothing depends on colour alone.
"""

from __future__ import annotations

BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
GREY = "#999999"

SEVERITY = {
    "severe": VERMILLION,
    "moderate": ORANGE,
    "mild": YELLOW,
    None: GREY,  # grade undetermined: some finding that could change it is unknown
}
SEVERITY_MARKER = {"severe": "v", "moderate": "D", "mild": "o", None: "s"}

BASELINE_TRYPTASE = BLUE
ACUTE_TRYPTASE = REDDISH_PURPLE
TRYPTASE_LIMIT = BLACK  # the 20 ng/mL line
RISE_THRESHOLD = REDDISH_PURPLE  # each episode's 20% + 2 threshold

TREATMENT = BLUISH_GREEN
RESCUE_TREATMENT = GREY
LANDMARK = BLACK  # diagnosis and evaluation dates

STATUS = {"met": BLUISH_GREEN, "not_met": VERMILLION, "unknown": ORANGE}
