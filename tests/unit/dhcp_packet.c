/* The DHCP parser and builder on hand-made packets: good ones, and each
 * kind of malformed one the daemon must drop. */
#include "unit.h"
#include "dhcp/dhcp_packet.h"
#include "core/buf.h"

static uint8_t pkt[1500];

/* A DISCOVER from 52:54:00:00:00:11; options appended by the caller. */
static struct wr
start(void)
{
	struct wr w = wr_make(pkt, sizeof pkt);
	uint8_t mac[16] = { 0x52, 0x54, 0, 0, 0, 0x11 };
	uint8_t zero[192] = { 0 };

	memset(pkt, 0, sizeof pkt);
	wr_u8(&w, 1); wr_u8(&w, 1); wr_u8(&w, 6); wr_u8(&w, 0);
	wr_be32(&w, 0x12345678);
	wr_be16(&w, 0); wr_be16(&w, 0x8000);
	wr_be32(&w, 0); wr_be32(&w, 0); wr_be32(&w, 0); wr_be32(&w, 0);
	wr_bytes(&w, mac, 16);
	wr_bytes(&w, zero, 192);
	wr_be32(&w, DHCP_MAGIC);
	return w;
}

static void
opt(struct wr *w, uint8_t code, const char *v, size_t len)
{
	wr_u8(w, code);
	wr_u8(w, (uint8_t)len);
	wr_bytes(w, v, len);
}

int
main(void)
{
	struct dhcp_msg m;
	struct wr w;

	w = start();
	opt(&w, 53, "\x01", 1);
	opt(&w, 93, "\x00\x07", 2);
	opt(&w, 60, "PXEClient:Arch:00007", 20);
	opt(&w, 55, "\x01\x03\x2b\x42\x43", 5);
	opt(&w, 97, "\x00" "0123456789abcdef", 17);
	opt(&w, 77, "iPXE", 4);
	opt(&w, 50, "\x0a\x00\x00\x05", 4);
	wr_u8(&w, 255);
	CHECK(dhcp_parse(pkt, wr_len(&w), &m) == DP_OK, "a PXE discover parses");
	CHECK(m.type == DHCPDISCOVER && m.xid == 0x12345678 && m.flags == 0x8000, "fixed fields");
	CHECK(m.arch == 7, "option 93 arch 7");
	CHECK_STR(m.vendor, "PXEClient:Arch:00007", "option 60");
	CHECK(m.ipxe, "user class iPXE");
	CHECK(m.has_uuid && m.uuid[1] == '0', "option 97");
	CHECK(m.reqip == 0x0a000005, "option 50");
	CHECK(dhcp_wants(&m, 0x43) && !dhcp_wants(&m, 6), "option 55 lookup");

	CHECK(dhcp_parse(pkt, 100, &m) == DP_SHORT, "truncated header is short");
	CHECK(dhcp_parse(pkt, DHCP_FIXED + 2, &m) == DP_SHORT, "no room for the cookie is short");
	pkt[0] = 2;
	CHECK(dhcp_parse(pkt, wr_len(&w), &m) == DP_OP, "a BOOTREPLY is the wrong op");
	pkt[0] = 1;
	pkt[2] = 17;
	CHECK(dhcp_parse(pkt, wr_len(&w), &m) == DP_HLEN, "hlen 17 is bad");
	pkt[2] = 7;
	CHECK(dhcp_parse(pkt, wr_len(&w), &m) == DP_HLEN, "hlen 7 on Ethernet is bad");
	pkt[2] = 6;
	pkt[DHCP_FIXED] = 0;
	CHECK(dhcp_parse(pkt, wr_len(&w), &m) == DP_MAGIC, "bad magic cookie");

	/* An option running past the end of the packet. */
	w = start();
	opt(&w, 53, "\x01", 1);
	wr_u8(&w, 60);
	wr_u8(&w, 200);
	wr_bytes(&w, "abc", 3);
	CHECK(dhcp_parse(pkt, wr_len(&w), &m) == DP_OPTION, "option past the end");
	/* A known option with the wrong length. */
	w = start();
	opt(&w, 53, "\x01", 1);
	opt(&w, 54, "\x01\x02\x03", 3);
	CHECK(dhcp_parse(pkt, wr_len(&w), &m) == DP_OPTION, "option 54 of 3 bytes");
	/* No message type at all (BOOTP) or an unknown one. */
	w = start();
	wr_u8(&w, 255);
	CHECK(dhcp_parse(pkt, wr_len(&w), &m) == DP_TYPE, "no option 53");
	w = start();
	opt(&w, 53, "\x09", 1);
	CHECK(dhcp_parse(pkt, wr_len(&w), &m) == DP_TYPE, "type 9");
	/* A giant option 55 (255 entries) parses; the list is bounded. */
	w = start();
	char big[255];
	for (int i = 0; i < 255; i++)
		big[i] = (char)(i + 1);
	opt(&w, 53, "\x03", 1);
	opt(&w, 55, big, 255);
	wr_u8(&w, 255);
	CHECK(dhcp_parse(pkt, wr_len(&w), &m) == DP_OK && m.nparams == 255, "option 55 of 255");
	/* Missing END: tolerated. */
	w = start();
	opt(&w, 53, "\x03", 1);
	CHECK(dhcp_parse(pkt, wr_len(&w), &m) == DP_OK, "no END option");

	/* Overload: option 53 lives in the file field. */
	w = start();
	opt(&w, 52, "\x01", 1);
	wr_u8(&w, 255);
	size_t len = wr_len(&w);
	memcpy(pkt + 108, "\x35\x01\x03\x3c\x04" "abcd\xff", 10);
	CHECK(dhcp_parse(pkt, len, &m) == DP_OK && m.type == DHCPREQUEST, "overloaded file");
	CHECK_STR(m.vendor, "abcd", "option 60 from the file field");
	memcpy(pkt + 108, "\x34\x01\x03\xff", 4);
	CHECK(dhcp_parse(pkt, len, &m) == DP_OVERLOAD, "option 52 inside the overload area");
	memcpy(pkt + 108, "\x35\x09\x03\xff", 4);
	CHECK(dhcp_parse(pkt, len, &m) == DP_OVERLOAD, "overloaded option past its field");
	w = start();
	opt(&w, 52, "\x04", 1);
	opt(&w, 53, "\x01", 1);
	CHECK(dhcp_parse(pkt, wr_len(&w), &m) == DP_OVERLOAD, "option 52 value 4");

	/* Build: a reply echoes xid and chaddr and carries our options. */
	w = start();
	opt(&w, 53, "\x01", 1);
	wr_u8(&w, 255);
	dhcp_parse(pkt, wr_len(&w), &m);
	struct dhcp_reply r;
	uint8_t out[DHCP_MAXREPLY];
	dhcp_reply_init(&r, &m, DHCPOFFER);
	r.yiaddr = 0x0a000064;
	snprintf(r.file, sizeof r.file, "undionly.kpxe");
	dhcp_opt_u32(&r, 54, 0x0a000001);
	dhcp_opt_str(&r, 67, "undionly.kpxe");
	size_t n = dhcp_build(&m, &r, out, sizeof out);
	CHECK(n >= DHCP_MINREPLY, "reply has at least 300 bytes (%zu)", n);
	CHECK(out[0] == 2 && out[4] == 0x12 && out[28] == 0x52 && out[33] == 0x11, "op, xid, chaddr");
	CHECK(out[16] == 10 && out[19] == 100, "yiaddr");
	CHECK(strcmp((char *)out + 108, "undionly.kpxe") == 0, "file field");
	CHECK(out[240] == 53 && out[242] == DHCPOFFER && out[243] == 54, "options in order");
	/* A reply never exceeds the client's 576-byte limit: options drop. */
	char filler[200];
	memset(filler, 'x', sizeof filler);
	dhcp_reply_init(&r, &m, DHCPOFFER);
	for (int i = 0; i < 4; i++)
		dhcp_opt(&r, 43, filler, sizeof filler);
	n = dhcp_build(&m, &r, out, sizeof out);
	CHECK(n <= 548 && r.dropped == 3, "options past 548 bytes are left out (%zu, %u dropped)", n, r.dropped);
	return UNIT_DONE();
}
