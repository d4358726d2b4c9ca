# The MLflow tracking server of docker-compose.yml: the MLflow version the app pins, with the
# PostgreSQL driver and the S3 client the server needs (MLflow's own image ships neither).
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
RUN pip install mlflow==3.17.2 psycopg2-binary==2.9.13 boto3==1.44.8
EXPOSE 5000
