"""Yuqing (舆情): public-opinion monitoring, grading, reporting and response."""

from yuqing.errors import YuqingError
from yuqing.settings import Settings

__version__ = "0.1.0"
__all__ = ["Settings", "YuqingError", "__version__"]
