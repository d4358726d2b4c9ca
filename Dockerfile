# DL Explorer with GPU-enabled TensorFlow. Build: docker build -t dl-explorer .
# (with Ray for DLX_EXECUTOR=ray: docker build --build-arg WITH_RAY=1 -t dl-explorer .)
# Run:   docker run --gpus all -p 8501:8501 -v "$PWD/mlruns:/app/mlruns" dl-explorer
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
WORKDIR /app

# WITH_RAY=1 adds Ray, for DLX_EXECUTOR=ray (README, "On a Ray cluster").
ARG WITH_RAY=0
COPY requirements.txt requirements-gpu.txt requirements-ray.txt ./
# The stack with TensorFlow's GPU build and its CUDA libraries (what `make run` picks where
# nvidia-smi finds a GPU); without a GPU it runs on the CPU.
RUN pip install -r requirements-gpu.txt \
    && if [ "$WITH_RAY" = 1 ]; then pip install -r requirements-ray.txt; fi

COPY . .
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4)"
CMD ["python", "-m", "streamlit", "run", "streamlit_app.py", "--server.address=0.0.0.0", "--server.port=8501"]
