"""Build hook: the report page templates travel inside the package.

The workspace's page sources (`reports/index.qmd`, `methods.qmd`, `_intervention.qmd`) and
`_quarto.yml` stay where a workspace keeps them, at the repository root; a build copies them into
`evaluation/report/templates/`, from where `evaluation report` copies them into a new workspace.
Everything else is declared in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
TEMPLATES = [ROOT / "reports" / name for name in ("index.qmd", "methods.qmd", "_intervention.qmd")]
TEMPLATES.append(ROOT / "_quarto.yml")


class BuildWithTemplates(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return  # an editable install reads the templates from the repository itself
        target = Path(self.build_lib) / "evaluation" / "report" / "templates"
        target.mkdir(parents=True, exist_ok=True)
        for source in TEMPLATES:
            shutil.copyfile(source, target / source.name)


setup(cmdclass={"build_py": BuildWithTemplates})
