"""What the investigation started with: list the __pycache__ files next to the code."""
import pathlib

for pyc in sorted(pathlib.Path(__file__).parent.glob("__pycache__/*.pyc")):
    print(pyc.name)
