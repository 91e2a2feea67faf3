NAME = 'delta'
