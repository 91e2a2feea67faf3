NAME = 'lazy_mod'
