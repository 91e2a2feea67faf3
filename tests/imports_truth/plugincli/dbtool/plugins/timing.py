NAME = "timing"
