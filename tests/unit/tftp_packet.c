/* The TFTP request parser and packet builders (server/tftp/tftp_packet.c). */
#include "tftp/tftp_packet.h"
#include "unit.h"

static bool
parse(const char *bytes, size_t len, struct tftp_req *req, struct tftp_reject *why)
{
	return tftp_parse_request(bytes, len, req, why);
}

#define P(lit, req, why) parse(lit, sizeof(lit) - 1, req, why)

int
main(void)
{
	struct tftp_req r;
	struct tftp_reject why;
	uint8_t buf[600];
	struct wr w;

	CHECK(P("\0\1cfg/pxe/525400000011\0octet\0", &r, &why), "plain RRQ parses");
	CHECK_STR(r.path, "cfg/pxe/525400000011", "path");
	CHECK(r.op == TFTP_RRQ && !r.netascii && r.opts == 0 && r.blksize == 512 &&
	    r.windowsize == 1, "defaults: octet, 512, window 1, no options");
	CHECK(P("\0\1f\0NetASCII\0", &r, &why) && r.netascii, "netascii, any case");
	CHECK(P("\0\2f\0octet\0", &r, &why) && r.op == TFTP_WRQ, "WRQ parses (refused later)");
	CHECK(!P("\0\1f\0mail\0", &r, &why) && why.code == TERR_BADOP, "mode mail refused");
	CHECK(!P("\0\1f", &r, &why) && why.code == TERR_BADOP, "no NUL: ERROR 4");
	CHECK(!P("\0\1f\0octet", &r, &why) && why.code == TERR_BADOP, "mode without NUL");
	CHECK(!P("\0\1\0octet\0", &r, &why) && why.code == TERR_NOTFOUND, "empty name");
	CHECK(!P("\0", &r, &why) && why.code < 0, "runt dropped");
	CHECK(!P("\0\5\0\0x\0", &r, &why) && why.code < 0, "ERROR never answered");
	CHECK(!P("\0\4\0\1", &r, &why) && why.code < 0, "stray ACK dropped");
	CHECK(!P("\0\11x\0", &r, &why) && why.code == TERR_BADOP, "opcode 9: ERROR 4");

	CHECK(P("\0\1f\0octet\0blksize\0001468\0tsize\0000\0timeout\0003\0windowsize\0008\0",
	    &r, &why), "all four options");
	CHECK(r.opts == (TOPT_BLKSIZE | TOPT_TSIZE | TOPT_TIMEOUT | TOPT_WINDOW) &&
	    r.blksize == 1468 && r.timeout == 3 && r.windowsize == 8, "option values");
	CHECK(P("\0\1f\0octet\0BLKSIZE\000100000\0windowsize\000999\0", &r, &why) &&
	    r.blksize == 65464 && r.windowsize == 64, "too large values clamped");
	CHECK(P("\0\1f\0octet\0blksize\00099999999999999999999\0", &r, &why) &&
	    r.blksize == 65464, "20-digit number clamped, no overflow");
	CHECK(!P("\0\1f\0octet\0blksize\000999999999999999999999\0", &r, &why) &&
	    why.code == TERR_OPTNEG, "21-digit number refused");
	CHECK(!P("\0\1f\0octet\0blksize\0007\0", &r, &why) && why.code == TERR_OPTNEG,
	    "blksize 7 refused");
	CHECK(!P("\0\1f\0octet\0timeout\000256\0", &r, &why) && why.code == TERR_OPTNEG,
	    "timeout 256 refused");
	CHECK(!P("\0\1f\0octet\0windowsize\0000\0", &r, &why), "windowsize 0 refused");
	CHECK(!P("\0\1f\0octet\0tsize\0-1\0", &r, &why), "negative refused");
	CHECK(!P("\0\1f\0octet\0tsize\0\0", &r, &why), "empty value refused");
	CHECK(!P("\0\1f\0octet\0tsize\0000\0TSIZE\0000\0", &r, &why) &&
	    why.code == TERR_OPTNEG, "duplicate refused");
	CHECK(P("\0\1f\0octet\0x-foo\0bar\0", &r, &why) && r.opts == 0, "unknown ignored");
	CHECK(P("\0\1f\0octet\0blksize", &r, &why) && r.opts == 0, "dangling bytes ignored");
	CHECK(P("\0\1f\0octet\0\0\0\0", &r, &why), "NUL padding ignored");

	char longreq[700] = { 0, 1 };
	memset(longreq + 2, 'a', 600);
	memcpy(longreq + 603, "octet", 6);
	CHECK(!parse(longreq, 609, &r, &why) && why.code == TERR_NOTFOUND, "600-byte name");

	w = wr_make(buf, sizeof buf);
	tftp_put_error(&w, TERR_BADID, "Unknown transfer ID");
	CHECK(wr_len(&w) == 24 && memcmp(buf, "\0\5\0\5Unknown transfer ID\0", 24) == 0,
	    "ERROR packet");
	P("\0\1f\0octet\0tsize\0000\0blksize\0001024\0", &r, &why);
	w = wr_make(buf, sizeof buf);
	tftp_put_oack(&w, &r, 4194304);
	CHECK(wr_len(&w) == 29 && memcmp(buf, "\0\6blksize\0001024\0tsize\0004194304\0", 29) == 0,
	    "OACK with the real tsize");
	uint16_t op, num;
	CHECK(tftp_parse_head("\0\4\1\2", 4, &op, &num) && op == 4 && num == 258, "ACK head");
	CHECK(!tftp_parse_head("\0\4\1", 3, &op, &num), "short ACK");
	return UNIT_DONE();
}
