# Rampart: plain make, no autotools.
#
#   make                 build everything into build/ (binaries in build/bin)
#   make demo            install missing packages, build, and show the gateway
#                        at work in network namespaces (root; KEEP=1 leaves
#                        it running to try by hand)
#   make check           install missing Debian packages, build, run all tests
#   make check SAN=1     the same with ASan+UBSan (into build/san)
#   make fuzz            run every fuzz target for FUZZ_SECONDS (default 600)
#   make install         PREFIX=/usr/local DESTDIR=
#   make deps            apt-get install what building and testing need
#   CI=true              warnings are errors;  V=1  show commands

PREFIX		?= /usr/local
DESTDIR		?=
SAN		?= 0
V		?= 0
FUZZ_SECONDS	?= 600
FUZZ_SMOKE	?= 30

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Messages go into fixed-size buffers and are cut on purpose when long, so
# gcc's guesses about snprintf truncation are noise here.
WARN	:= -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith \
	   -Wstrict-prototypes -Wmissing-prototypes -Wno-format-truncation
ifeq ($(CI),true)
WARN	+= -Werror
endif

ifeq ($(SAN),1)
BUILD	:= build/san
OPT	:= -O1 -g -fno-omit-frame-pointer \
	   -fsanitize=address,undefined -fno-sanitize-recover=all
LDSAN	:= -fsanitize=address,undefined
else
BUILD	:= build
OPT	:= -O2 -g -D_FORTIFY_SOURCE=3
LDSAN	:=
endif

HARDEN	:= -fstack-protector-strong -fstack-clash-protection \
	   -fcf-protection -fPIE
CFLAGS	?=
CPPFLAGS += -D_GNU_SOURCE -Ipolicy -Icommon -Iaudit -Itotp -Igateway -Ictl \
	    -Iknockd
ALL_CFLAGS = -std=c11 $(OPT) $(HARDEN) $(WARN) -MMD -MP $(CFLAGS)
LDFLAGS	+= -pie -Wl,-z,relro,-z,now,-z,noexecstack $(LDSAN)

LIBS_POLICY := -lsodium
LIBS_CTL    := -loath -lqrencode -lsodium
LIBS_GW     := -lssh -lcares -lseccomp -lcap-ng -loath -lsodium \
	       -lnftables
LIBS_KNOCKD := -lnftables -lseccomp -lcap-ng -lsodium
LIBS_KNOCK  := -lsodium

# Libraries: policy/ (the language), common/ + audit/ + gateway/ +
# knockd/ (all of the daemons but their mains), so unit tests and fuzzers
# link the real code.
POLICY_SRC := $(wildcard policy/*.c)
KNOCK_MAINS := knockd/knockd.c knockd/knock.c
CORE_SRC   := $(wildcard common/*.c audit/*.c totp/*.c) \
	      $(filter-out gateway/main.c,$(wildcard gateway/*.c)) \
	      $(filter-out $(KNOCK_MAINS),$(wildcard knockd/*.c))
CTL_SRC    := $(wildcard ctl/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)

POLICY_OBJ := $(POLICY_SRC:%.c=$(BUILD)/obj/%.o)
CORE_OBJ   := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
CTL_OBJ    := $(CTL_SRC:%.c=$(BUILD)/obj/%.o)
GW_OBJ     := $(BUILD)/obj/gateway/main.o
LIBPOLICY  := $(BUILD)/lib/libpolicy.a
LIBCORE    := $(BUILD)/lib/libcore.a
CTL_BIN    := $(BUILD)/bin/rampartctl
GW_BIN     := $(if $(wildcard gateway/main.c),$(BUILD)/bin/rampart-gateway)
KNOCKD_BIN := $(if $(wildcard knockd/knockd.c),$(BUILD)/bin/rampart-knockd)
KNOCK_BIN  := $(if $(wildcard knockd/knock.c),$(BUILD)/bin/rampart-knock)
KNOCK_OBJ  := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(KNOCK_MAINS)))
BIN        := $(CTL_BIN) $(GW_BIN) $(KNOCKD_BIN) $(KNOCK_BIN)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
ALL_OBJ    := $(POLICY_OBJ) $(CORE_OBJ) $(CTL_OBJ) \
	      $(if $(GW_BIN),$(GW_OBJ)) $(KNOCK_OBJ)

# Fuzzers always build with clang's libFuzzer, ASan and UBSan, and link
# every library source (the linker keeps what each target uses).
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
	      -fno-sanitize-recover=all -D_GNU_SOURCE -Ipolicy -Icommon \
	      -Iaudit -Itotp -Igateway -Iknockd

DEPS := build-essential libssh-dev libsodium-dev libc-ares-dev \
	liboath-dev libqrencode-dev oathtool zbar-tools \
	libseccomp-dev libcap-ng-dev libcmocka-dev clang libclang-rt-14-dev \
	binutils openssh-client openssh-server iproute2 curl strace \
	netcat-openbsd python3 ssh-audit procps mandoc systemd \
	libnftables-dev nftables sshuttle iptables dnsutils

.PHONY: all check check-run unit ctl-tests integration fuzz-smoke fuzz \
	install deps bench \
	clean hardening

all: $(BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIBPOLICY): $(POLICY_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(LIBCORE): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(CTL_BIN): $(CTL_OBJ) $(LIBCORE) $(LIBPOLICY)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -Wl,--as-needed \
		$(LIBS_CTL) $(LIBS_GW)

$(BUILD)/bin/rampart-gateway: $(GW_OBJ) $(LIBCORE) $(LIBPOLICY)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -Wl,--as-needed $(LIBS_GW)

$(BUILD)/bin/rampart-knockd: $(BUILD)/obj/knockd/knockd.o $(LIBCORE) \
	    $(LIBPOLICY)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -Wl,--as-needed \
		$(LIBS_KNOCKD)

$(BUILD)/bin/rampart-knock: $(BUILD)/obj/knockd/knock.o $(LIBCORE) \
	    $(LIBPOLICY)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -Wl,--as-needed \
		$(LIBS_KNOCK)

# The gateway with test hooks (-X): only for the tests that need them,
# never installed.
$(BUILD)/tests/rampart-gateway-test: gateway/main.c $(CORE_SRC) $(POLICY_SRC)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(CPPFLAGS) -DRAMPART_TEST_HOOKS $(ALL_CFLAGS) $(LDFLAGS) \
		-o $@ $^ $(LIBS_GW)

$(BUILD)/tests/%: tests/unit/%.c $(LIBCORE) $(LIBPOLICY)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBCORE) \
		$(LIBPOLICY) $(LIBS_GW) -lqrencode -lcmocka

build/fuzz/%: tests/fuzz/%.c $(POLICY_SRC) $(CORE_SRC)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)clang $(FUZZ_FLAGS) -o $@ $< $(POLICY_SRC) $(CORE_SRC) $(LIBS_GW)

# check installs what is missing first, then builds and tests in a
# second make so that nothing is compiled before the headers exist.
check: deps
	$(Q)$(MAKE) --no-print-directory check-run

# The fuzzers are ASan+UBSan builds already, and the sanitizer build is
# not the one we ship: SAN=1 skips the fuzz smoke run and the hardening
# check.
GW_TEST_BIN := $(BUILD)/tests/rampart-gateway-test

ifeq ($(SAN),1)
check-run: $(BIN) $(UNIT_BIN) $(GW_TEST_BIN)
	$(Q)$(MAKE) --no-print-directory unit ctl-tests integration
	@echo "check (ASan+UBSan): all tests passed"
else
check-run: $(BIN) $(UNIT_BIN) $(FUZZ_BIN) $(GW_TEST_BIN)
	$(Q)$(MAKE) --no-print-directory unit ctl-tests integration \
	    fuzz-smoke hardening
	@echo "check: all tests passed"
endif

# Real peers in network namespaces (root); each script is bounded in time
# and cleans up after itself.
integration: $(BIN) $(GW_TEST_BIN)
	$(Q)for t in tests/gateway/test_*.sh $(wildcard tests/knock/test_*.sh) \
	    $(wildcard tests/shuttle/test_*.sh); do \
		echo "== $$t"; \
		BUILD=$(BUILD) RAMPARTCTL=$(CTL_BIN) timeout 900 sh $$t || \
		    exit 1; \
	done

# The demo: a laptop, the bastion and a private network in namespaces,
# real OpenSSH on both sides; cleans up after itself unless KEEP=1 (then
# "sh tests/demo/demo.sh down" tears it down).  Two stages like check.
.PHONY: demo demo-run
KEEP ?= 0

demo: deps
	$(Q)$(MAKE) --no-print-directory demo-run

demo-run: $(BIN)
	$(Q)BUILD=$(BUILD) KEEP=$(KEEP) sh tests/demo/demo.sh

unit: $(UNIT_BIN)
	$(Q)for t in $(UNIT_BIN); do \
		echo "== $$t"; \
		RAMPART_TESTDATA=tests/data $$t || exit 1; \
	done

ctl-tests: $(BIN)
	$(Q)for t in tests/ctl/*.sh; do \
		echo "== $$t"; \
		RAMPARTCTL=$(CTL_BIN) sh $$t || exit 1; \
	done

hardening: $(BIN)
	$(Q)sh tests/hardening.sh $(BIN) --objs $(ALL_OBJ)

fuzz-smoke: $(FUZZ_BIN)
	$(Q)sh tests/fuzz/run.sh $(FUZZ_SMOKE) $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	$(Q)sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

# Rampart against Debian's OpenSSH sshd, side by side, then knockd, then
# sshuttle against sshd + its Python server (root, network namespaces,
# about a quarter of an hour on two CPUs; BENCH_QUICK=1 for a short run):
# writes docs/performance.md.  See tests/bench/bench.py.
BENCH_BIN := $(patsubst tests/bench/%.c,$(BUILD)/bench/%, \
	     $(wildcard tests/bench/*.c))

# Libraries a helper needs, by name: BENCH_LIBS_<helper>.
BENCH_LIBS_knock_latency := -lnftables

$(BUILD)/bench/%: tests/bench/%.c
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(BENCH_LIBS_$*)

bench: $(BIN) $(BENCH_BIN)
	$(Q)python3 tests/bench/bench.py --build $(BUILD)

# Binaries, man pages, the systemd units (their /usr/sbin paths rewritten
# to SBINDIR), the example configurations and the knock door's nftables
# table (rampart.nft, next to the examples).  Nothing goes to /etc or
# /var: the gateway creates its directories and host key at its first
# start.
# tests/ctl/install.sh checks the result.
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/rampart
UNITDIR	?= $(PREFIX)/lib/systemd/system

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(CTL_BIN) $(DESTDIR)$(BINDIR)/rampartctl
	install -m 0644 docs/rampartctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(wildcard docs/examples/*.conf) \
	    $(DESTDIR)$(DOCDIR)/examples/
ifneq ($(GW_BIN),)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(UNITDIR)
	install -m 0755 $(GW_BIN) $(DESTDIR)$(SBINDIR)/rampart-gateway
	install -m 0644 docs/rampart-gateway.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 docs/gateway.conf.5 $(DESTDIR)$(MANDIR)/man5/
	sed 's|/usr/sbin/rampart-gateway|$(SBINDIR)/rampart-gateway|g' \
	    gateway/rampart-gateway.service \
	    >$(DESTDIR)$(UNITDIR)/rampart-gateway.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/rampart-gateway.service
endif
ifneq ($(KNOCKD_BIN),)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(UNITDIR)
	install -m 0755 $(KNOCKD_BIN) $(DESTDIR)$(SBINDIR)/rampart-knockd
	install -m 0644 docs/rampart-knockd.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 docs/knockd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 knockd/rampart.nft $(DESTDIR)$(DOCDIR)/examples/
	sed 's|/usr/sbin/rampart-knockd|$(SBINDIR)/rampart-knockd|g' \
	    knockd/rampart-knockd.service \
	    >$(DESTDIR)$(UNITDIR)/rampart-knockd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/rampart-knockd.service
endif
ifneq ($(KNOCK_BIN),)
	install -d $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(KNOCK_BIN) $(DESTDIR)$(BINDIR)/rampart-knock
	install -m 0644 docs/rampart-knock.1 $(DESTDIR)$(MANDIR)/man1/
endif

# Idempotent, and silent when everything is already installed.
deps:
	@missing=""; for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		    grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "deps: missing:$$missing (run 'make deps' as root)" >&2; \
			exit 1; \
		fi; \
		echo "deps: installing$$missing"; \
		rc=/usr/sbin/policy-rc.d; own=0; \
		if [ ! -e $$rc ]; then \
			printf '#!/bin/sh\nexit 101\n' >$$rc && chmod 755 $$rc && \
			    own=1; \
		fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		    apt-get install -y -qq --no-install-recommends $$missing \
		    >/dev/null; st=$$?; \
		[ $$own = 1 ] && rm -f $$rc; \
		[ $$st = 0 ] || exit 1; \
	fi

clean:
	rm -rf build

-include $(ALL_OBJ:.o=.d)
