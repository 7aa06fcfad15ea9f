#include "http.h"
enum MHD_Result
http_api(struct MHD_Connection *c, struct http_req *r, const char *method, const char *path)
{
	(void)method;
	return http_error(c, r, 404, "no API route %s", path);
}
enum MHD_Result
http_metrics(struct MHD_Connection *c, struct http_req *r)
{
	return http_error(c, r, 404, "later");
}
void http_state_init(void) {}
void http_state_shutdown(void) {}
bool http_api_authorized(struct MHD_Connection *c) { (void)c; return false; }
