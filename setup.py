"""Package metadata comes from settings.ini (nbdev's single source), read with configparser."""
from configparser import ConfigParser
from pathlib import Path

import setuptools

here = Path(__file__).parent
config = ConfigParser(delimiters=["="])
config.read(here / "settings.ini", encoding="utf-8")
cfg = config["DEFAULT"]


def reqs(key):
    return cfg.get(key, "").split()


extras = {"torch": reqs("torch_requirements"), "vision": reqs("vision_requirements"),
          "postgres": reqs("postgres_requirements"), "distributed": reqs("distributed_requirements"),
          "label-studio": reqs("label_studio_requirements"), "widget": reqs("widget_requirements"),
          "cvat": reqs("cvat_requirements"), "embeddings": reqs("embeddings_requirements"),
          "dev": reqs("dev_requirements")}
extras["all"] = sorted({r for group in extras.values() for r in group})

setuptools.setup(
    name=cfg["lib_name"],
    version=cfg["version"],
    description=cfg["description"],
    long_description=(here / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    author=cfg["author"],
    author_email=cfg["author_email"],
    license="Apache-2.0",
    keywords=cfg["keywords"].split(),
    python_requires=">=" + cfg["min_python"],
    packages=setuptools.find_packages(include=[cfg["lib_path"], cfg["lib_path"] + ".*"]),
    include_package_data=True,
    install_requires=reqs("requirements"),
    extras_require=extras,
    entry_points={
        "console_scripts": cfg.get("console_scripts", "").split(),
        "nbdev": [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"],
    },
    zip_safe=False,
)
