NAME = 'beta'
