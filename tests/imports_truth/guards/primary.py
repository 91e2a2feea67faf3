NAME = 'primary'
