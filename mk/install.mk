# mk/install.mk - what a machine gets (issue 13): man pages made from --help with help2man, the bash
# completion made by the CLI from its command table, `make install` and `make uninstall`.
#
#   make install [PREFIX=/usr/local] [DESTDIR=...]   binaries, man pages, bash completion, systemd units
#                                                    (every packaging/systemd/*.service, @bindir@
#                                                    replaced), /etc/default/gpupoold, docs, examples
#
# The binaries need no data at run time: the catalog is compiled in.

PREFIX        ?= /usr/local
BINDIR        ?= $(PREFIX)/bin
MANDIR        ?= $(PREFIX)/share/man
DOCDIR        ?= $(PREFIX)/share/doc/gpupool
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR       ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR    ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)

MAN_PAGES  := $(B)/man/gpupool.1 $(B)/man/gpupoold.8 $(B)/man/gpupool-agent.8
COMPLETION := $(B)/completion/gpupool
UNITS      := $(wildcard packaging/systemd/*.service)
BINS       += $(MAN_PAGES) $(COMPLETION)

.PHONY: install uninstall

# help2man runs the program with --help and --version (the CLI's --help-all has every command).
$(B)/man/gpupool.1: $(B)/gpupool | $(DEPS_OK)
	@mkdir -p $(dir $@)
	help2man -N -s 1 -n "az-style command line for gpupool, the managed GPU node pool control plane" \
	  --help-option=--help-all -o $@ $<
$(B)/man/gpupoold.8: $(B)/gpupoold | $(DEPS_OK)
	@mkdir -p $(dir $@)
	help2man -N -s 8 -n "gpupool control plane: the ARM API for managed GPU node pools" -o $@ $<
$(B)/man/gpupool-agent.8: $(B)/gpupool-agent | $(DEPS_OK)
	@mkdir -p $(dir $@)
	help2man -N -s 8 -n "gpupool node agent: discovers GPUs, checks and applies the pool's plan" -o $@ $<

$(COMPLETION): $(B)/gpupool
	@mkdir -p $(dir $@)
	$< completion bash > $@.tmp && mv $@.tmp $@

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(COMPLETIONDIR) \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/default $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(B)/gpupool $(B)/gpupoold $(B)/gpupool-agent $(DESTDIR)$(BINDIR)/
	install -m 0644 $(B)/man/gpupool.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(B)/man/gpupoold.8 $(B)/man/gpupool-agent.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(COMPLETION) $(DESTDIR)$(COMPLETIONDIR)/gpupool
	@set -e; for u in $(UNITS); do \
	  echo "install $$u -> $(DESTDIR)$(UNITDIR)/$${u##*/}"; \
	  sed -e 's|@bindir@|$(BINDIR)|g' $$u > $(DESTDIR)$(UNITDIR)/$${u##*/}; \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/}; done
	@set -e; for d in packaging/default/*; do f=$(DESTDIR)$(SYSCONFDIR)/default/$${d##*/}; \
	  if [ -e $$f ]; then echo "keep $$f"; else echo "install $$d -> $$f"; install -m 0644 $$d $$f; fi; done
	install -m 0644 README.md LICENSE $(wildcard docs/*.md) $(DESTDIR)$(DOCDIR)/
	install -m 0644 examples/*.json $(DESTDIR)$(DOCDIR)/examples/

# /etc/default/gpupoold and /etc/default/gpupool-agent are the administrator's: they stay.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/gpupool $(DESTDIR)$(BINDIR)/gpupoold $(DESTDIR)$(BINDIR)/gpupool-agent \
	  $(DESTDIR)$(MANDIR)/man1/gpupool.1 $(DESTDIR)$(MANDIR)/man8/gpupoold.8 $(DESTDIR)$(MANDIR)/man8/gpupool-agent.8 \
	  $(DESTDIR)$(COMPLETIONDIR)/gpupool $(patsubst packaging/systemd/%,$(DESTDIR)$(UNITDIR)/%,$(UNITS))
	rm -rf $(DESTDIR)$(DOCDIR)
