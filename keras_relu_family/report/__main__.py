"""``python -m keras_relu_family.report LOG_DIR --output report.png``."""

import sys

from keras_relu_family.report import main

sys.exit(main())
