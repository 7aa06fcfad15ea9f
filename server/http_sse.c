#include "http.h"
void http_sse_init(void) {}
void http_sse_shutdown(void) {}
enum MHD_Result
http_sse(struct MHD_Connection *c, struct http_req *r)
{
	return http_error(c, r, 404, "later");
}
