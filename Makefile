# gridboot: `make` builds build/gridbootd; `make test` installs what the
# tests need, builds with ASan+UBSan and runs every test; `make lab` runs
# the QEMU lab. See README.md.

PKGS     := libconfig libmicrohttpd jansson libssl libcrypto libsystemd zlib libpq libfreeipmi libcurl
CC       ?= cc
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
            -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers \
            -Wno-format-truncation
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# SAN=1 builds into build-san with AddressSanitizer and UBSan.
ifeq ($(SAN),1)
BUILD    ?= build-san
CFLAGS   += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
else
BUILD    ?= build
endif
# Full RELRO: every symbol bound at start and the GOT read-only after, as
# Debian's hardening=+all builds the package, so that `make` builds what
# the package ships (a daemon that parses untrusted packets). No lazy
# symbol lookup in the first packets' path either (no latency change
# measured on this VM).
LDFLAGS  += -Wl,-z,relro,-z,now

SRCS     := $(wildcard server/*.c server/*/*.c)
HDRS     := $(wildcard server/*.h server/*/*.h)
LIBSRCS  := $(filter-out server/main.c,$(SRCS))
LIBOBJS  := $(LIBSRCS:server/%.c=$(BUILD)/obj/%.o)
UNITSRCS := $(wildcard tests/unit/*.c)
UNITS    := $(UNITSRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all clean test units deps lab lab-down lab-drawterm bench kernels install

# The first rule is make's default goal: a plain `make` builds, never installs.
all: $(BUILD)/gridbootd

# `make install`: the daemon, its man pages, the systemd unit, the web
# page and templates, and the example inventory as the default one (never
# over an existing one). DESTDIR stages it (packages); PREFIX is /usr/local
# unless told (the Debian package uses /usr).
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
DATADIR    ?= $(PREFIX)/share/gridboot
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
install: $(BUILD)/gridbootd
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(DATADIR)/web $(DESTDIR)$(DATADIR)/plan9ini $(DESTDIR)$(DATADIR)/ipxe-scripts \
	    $(DESTDIR)$(DATADIR)/examples $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/gridboot
	install -m 755 $(BUILD)/gridbootd $(DESTDIR)$(SBINDIR)/gridbootd
	install -m 644 man/gridbootd.8 $(DESTDIR)$(MANDIR)/man8/gridbootd.8
	install -m 644 man/gridboot.cfg.5 $(DESTDIR)$(MANDIR)/man5/gridboot.cfg.5
	install -m 644 web/* $(DESTDIR)$(DATADIR)/web/
	install -m 644 plan9ini/*.ini $(DESTDIR)$(DATADIR)/plan9ini/
	install -m 644 ipxe-scripts/*.ipxe $(DESTDIR)$(DATADIR)/ipxe-scripts/
	sed 's|/usr/share/gridboot|$(DATADIR)|g' inventory/example.cfg >$(DESTDIR)$(DATADIR)/examples/gridboot.cfg
	chmod 644 $(DESTDIR)$(DATADIR)/examples/gridboot.cfg
	sed 's|@SBINDIR@|$(SBINDIR)|g' packaging/gridbootd.service >$(DESTDIR)$(UNITDIR)/gridbootd.service
	chmod 644 $(DESTDIR)$(UNITDIR)/gridbootd.service
	[ -e $(DESTDIR)$(SYSCONFDIR)/gridboot/gridboot.cfg ] || \
	    install -m 644 $(DESTDIR)$(DATADIR)/examples/gridboot.cfg $(DESTDIR)$(SYSCONFDIR)/gridboot/gridboot.cfg

$(BUILD)/obj/%.o: server/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -Iserver -c -o $@ $<

$(BUILD)/libgridboot.a: $(LIBOBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/gridbootd: $(BUILD)/obj/main.o $(BUILD)/libgridboot.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libgridboot.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Iserver -o $@ $< $(BUILD)/libgridboot.a $(LDFLAGS) $(PKG_LIBS)

# The project's own 9P client (tests/tools/p9c.c), on the server's codec.
$(BUILD)/tools/p9c: tests/tools/p9c.c tests/tools/tool_net.h $(BUILD)/libgridboot.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Iserver -o $@ $< $(BUILD)/libgridboot.a $(LDFLAGS) $(PKG_LIBS)

# The project's AuthPass client (tests/tools/authpass.c).
$(BUILD)/tools/authpass: tests/tools/authpass.c tests/tools/tool_net.h $(BUILD)/libgridboot.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Iserver -o $@ $< $(BUILD)/libgridboot.a $(LDFLAGS) $(PKG_LIBS)

# Logins as fast as one source sends them (tests/tools/authflood.c).
$(BUILD)/tools/authflood: tests/tools/authflood.c tests/tools/tool_net.h $(BUILD)/libgridboot.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Iserver -o $@ $< $(BUILD)/libgridboot.a $(LDFLAGS) $(PKG_LIBS)

units: $(UNITS) $(BUILD)/tools/p9c $(BUILD)/tools/authpass $(BUILD)/tools/authflood

# Installs the Debian packages the build and the tests use (idempotent).
deps:
	sh tests/install-deps.sh

test: deps
	$(MAKE) SAN=1 all units
	sh tests/run.sh build-san

lab:
	sh test-lab/lab.sh up

lab-down:
	sh test-lab/lab.sh down

# drawterm from the host to the lab's cpu1 as glenda: a window, or with
# CMD='...' the command's output (docs/lab.md).
# CMD goes through the environment: on the make command line, a | or ;
# in it would otherwise run on the host.
lab-drawterm:
	CMD="$(CMD)" sh -c 'if [ -n "$$CMD" ]; then exec sh test-lab/lab.sh drawterm "$$CMD"; else exec sh test-lab/lab.sh drawterm; fi' 

# Downloads the 9front release into kernels/ (needs the internet; never
# part of `make test`). See kernels/README.md.
kernels:
	sh test-lab/fetch-kernels.sh

bench: all $(BUILD)/tools/p9c
	sh bench/run.sh

clean:
	rm -rf build build-san

# libFuzzer targets (clang with libclang-rt-14-dev): `make fuzz-dhcp`,
# `make fuzz-dhcp6`, `make fuzz-tftp`, `make fuzz-p9` (9P decoding), `make fuzz-p9sess` (whole
# 9P sessions), `make fuzz-authreq`, `make fuzz-ra` (router solicitations and advertisements). FUZZ_TIME bounds a run in seconds; the corpus grows in
# $(BUILD)/fuzz/NAME-corpus from the seeds in tests/fuzz/NAME-seeds.
FUZZ_TIME ?= 60
FUZZ_CC   ?= clang
FUZZ_SRCS_dhcp := server/dhcp/dhcp_packet.c server/core/util.c
FUZZ_SRCS_dhcp6 := server/dhcp6/dhcp6_packet.c
FUZZ_SRCS_tftp := server/tftp/tftp_packet.c
FUZZ_SRCS_p9 := server/proto/p9_fcall.c
FUZZ_SRCS_p9sess := server/proto/p9_fcall.c server/p9/p9_srv.c server/p9/p9_srv2000.c \
    server/p9/p9_srvL.c server/p9/p9_export.c server/p9/p9_owner.c \
    server/p9/p9_synth.c server/core/util.c server/core/log.c server/core/limiter.c
FUZZ_SRCS_authreq := server/auth/authport.c server/auth/authsrv.c server/auth/authkey.c \
                     server/auth/authmsg.c server/auth/authpak.c server/auth/rcpu.c server/proto/p9_fcall.c \
                     server/curve/field448.c server/curve/ed448.c server/core/limiter.c
FUZZ_LIBS_authreq := -lssl -lcrypto
FUZZ_SRCS_ra := server/ra/ra_packet.c
$(BUILD)/fuzz/%_fuzz: tests/fuzz/%_fuzz.c $(SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	    -fsanitize=fuzzer,address,undefined -Iserver -o $@ $< $(FUZZ_SRCS_$*) $(FUZZ_LIBS_$*)

fuzz-dhcp fuzz-dhcp6 fuzz-tftp fuzz-p9 fuzz-p9sess fuzz-authreq fuzz-ra: fuzz-%: $(BUILD)/fuzz/%_fuzz
	@mkdir -p $(BUILD)/fuzz/$*-corpus
	$< -max_total_time=$(FUZZ_TIME) -timeout=5 -rss_limit_mb=1024 -max_len=1500 \
	    $(BUILD)/fuzz/$*-corpus tests/fuzz/$*-seeds
.PHONY: fuzz-tftp fuzz-dhcp fuzz-dhcp6 fuzz-p9 fuzz-p9sess fuzz-authreq fuzz-ra
