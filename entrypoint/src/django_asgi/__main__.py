from django_asgi.cli import main

raise SystemExit(main())
