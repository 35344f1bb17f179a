from fastapi import APIRouter

router = APIRouter()  # scaffold: replaced by the area owner
