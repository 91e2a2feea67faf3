NAME = 'legacy'
