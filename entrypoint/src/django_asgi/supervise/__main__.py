import sys

from django_asgi.supervise import main

sys.exit(main())
