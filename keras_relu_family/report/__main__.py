"""``python -m keras_relu_family.report LOG_DIR --output report.png``."""

import sys

from keras_relu_family.report import main

if __name__ == "__main__":  # not on import (pytest --doctest-modules imports every module)
    sys.exit(main())
