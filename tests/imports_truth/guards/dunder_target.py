NAME = 'dunder_target'
