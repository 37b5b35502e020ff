"""/repair-orders/{number}/photos (issue 11, reception: steps 3–5): photos of the car taken at reception (a damage
mark's), uploaded as multipart, kept resized and re-encoded without EXIF."""

from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from pydantic import Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import Detail, unprocessable
from shopfloor.api.fields import Id, RoNumber
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import NotFound
from shopfloor.services.reception.photos import NotAnImage, PhotoInfo, PhotoTooLarge

router = APIRouter(route_class=GuardedRoute, tags=["reception"])

UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Detail, "description": "the body could not be read as multipart form data"},
    413: {"model": Detail, "description": "the photo is larger than the site's [reception] photo_max_mb, or has "
                                          "more pixels than the server decodes"},
    415: {"model": Detail, "description": "not a JPEG or PNG image (judged by its content, not its name or type)"},
}


class Photo(Shape):
    id: int = Field(description="what a damage mark's `photo` names")
    url: str = Field(description="for staff signed in on a staff page; a token reads it at "
                                 "GET /repair-orders/{number}/photos/{id}")
    width: int
    height: int


def photo_of(info: PhotoInfo) -> Photo:
    return Photo(id=info.id, url=info.url, width=info.width, height=info.height)


@router.post("/repair-orders/{number}/photos", status_code=201, summary="Upload a photo of the car (JPEG or PNG)",
             description="Multipart, the image in the field `file`. What is kept is upright (by its EXIF "
                         "orientation), at most [reception] photo_max_px on its longer side, re-encoded as JPEG "
                         "without EXIF or any other metadata.",
             responses=UPLOAD_ERRORS | unprocessable("no field `file`"), response_model=Photo)
def post_photo(api: Services, caller: Annotated[Caller, allowed(Permission.RECEPTION)], number: RoNumber,
               file: Annotated[UploadFile, File(description="the image: JPEG or PNG")]) -> Photo | JSONResponse:
    service = api.reception.photos
    # one byte more than allowed is enough to know it is too much: the rest stays unread
    data = file.file.read(service.max_bytes + 1)
    try:
        info = service.upload(number, data, actor=caller.actor)
    except PhotoTooLarge as refused:
        return JSONResponse({"detail": refused.message("en")}, status_code=413)
    except NotAnImage as refused:
        return JSONResponse({"detail": refused.message("en")}, status_code=415)
    return photo_of(info)


@router.get("/repair-orders/{number}/photos", summary="An order's photos, oldest first",
            dependencies=[allowed(Permission.REPAIR_ORDER_READ)], responses=unprocessable())
def list_photos(api: Services, number: RoNumber) -> list[Photo]:
    return [photo_of(p) for p in api.reception.photos.for_order(number)]


@router.get("/repair-orders/{number}/photos/{photo_id}", summary="One of an order's photos, as a JPEG",
            response_class=FileResponse, dependencies=[allowed(Permission.REPAIR_ORDER_READ)],
            responses={200: {"description": "the photo as kept", "content": {"image/jpeg": {"schema": {
                "type": "string", "format": "binary"}}}}, **unprocessable()})
def get_photo(api: Services, number: RoNumber, photo_id: Id) -> FileResponse:
    path = api.reception.photos.file_of(number, photo_id)
    if path is None:
        raise NotFound("walkaround.error.photo_unknown", number=number, photo=photo_id)
    return FileResponse(path, media_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"})
