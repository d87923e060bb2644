"""Package discovery for the folders that install under the ``vosframe`` namespace.

All metadata is in pyproject.toml; this file only maps the product card's root folders
(``registry/``, ``plugins/``, ``configs/``) to ``vosframe.*`` packages, recursively.
"""

from setuptools import find_packages, setup

MAPPED = {
    "registry": "vosframe.registry",
    "plugins": "vosframe.plugins",
    "configs": "vosframe.configs",
}

packages = find_packages(include=["vosframe", "vosframe.*"])
package_dir = {"vosframe": "vosframe"}
for folder, name in MAPPED.items():
    package_dir[name] = folder
    packages.append(name)
    for sub in find_packages(where=folder):
        packages.append(f"{name}.{sub}")
        package_dir[f"{name}.{sub}"] = f"{folder}/{sub.replace('.', '/')}"

setup(packages=packages, package_dir=package_dir)
