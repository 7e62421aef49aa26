from hw.cli import main

raise SystemExit(main())
