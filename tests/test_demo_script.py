"""./scripts/demo.sh sets up quietly: under 40 lines before it serves, the seed's mail in a folder."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from django.conf import settings


def test_the_demo_sets_up_in_few_lines_and_writes_its_mail_to_the_folder_it_names(tmp_path: Path) -> None:
    mail = tmp_path / "mail"
    # A clean demo environment: no SMTP server, no broker, a database of its own.
    env = {key: value for key, value in os.environ.items()
           if key not in {"EMAIL_HOST", "CELERY_BROKER_URL", "DATABASE_URL", "DEBUG", "LOG_LEVEL"}}  # fmt: skip
    env |= {"DEMO_SETUP_ONLY": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
            "EMAIL_FILE_PATH": str(mail)}  # fmt: skip

    done = subprocess.run(  # noqa: S603
        [Path(settings.BASE_DIR) / "scripts" / "demo.sh"],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    printed = (done.stdout + done.stderr).splitlines()
    assert len(printed) < 40, printed
    assert f"Mail: written to {mail}/" in done.stdout
    assert "prescriber@demo.test / demo-prescriber-1" in done.stdout
    sent = list(mail.iterdir())
    assert sent
    assert any("Subject:" in path.read_text() for path in sent)
    assert "Subject:" not in done.stdout + done.stderr
