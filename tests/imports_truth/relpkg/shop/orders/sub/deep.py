from ...util import double

LEVEL = double(3)
