# Builds adam_example.pyx against the installed gdcore:
#   python setup.py build_ext --inplace
# gdcore.get_extension_kwargs() gives the headers, the static library and the
# flags (C++17, OpenMP); Cython finds gdcore/cgdcore.pxd in the installed
# package.
from Cython.Build import cythonize
from setuptools import Extension, setup

import gdcore

extension = Extension("adam_example", ["adam_example.pyx"], **gdcore.get_extension_kwargs())
setup(name="gdcore-cython-example", ext_modules=cythonize([extension]))
