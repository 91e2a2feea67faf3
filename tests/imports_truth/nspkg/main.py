"""A namespace package (no __init__.py) split over the project and an extra path."""
import plugins.alpha
from plugins import beta
from plugins import delta  # lives in extra/plugins: needs --path extra

print(plugins.alpha.NAME, beta.NAME, delta.NAME)
