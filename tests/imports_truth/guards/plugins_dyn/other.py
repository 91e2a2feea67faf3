NAME = 'other'
