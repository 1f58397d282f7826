import a.b.c as d, e
from . import x
from .. import (y,
  z,)
from .m import *
