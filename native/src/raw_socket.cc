// Raw IP sockets for SCTP; see raw_socket.h for the design.
#include "raw_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hasctp {

namespace {

// Room for every control message we ask for: IP_PKTINFO or IPV6_PKTINFO,
// IPV6_HOPLIMIT, SO_RXQ_OVFL (each CMSG_SPACE of at most 20 bytes of data).
constexpr size_t kControlSpace = 128;
// sendmmsg takes at most UIO_MAXIOV (1024) messages; smaller chunks keep the
// scratch arrays small and still amortise the system call.
constexpr size_t kSendChunk = 256;

void SetBuffer(int fd, int forceOpt, int opt, int bytes) {
  if (bytes <= 0) return;
  // The *FORCE variants (CAP_NET_ADMIN) may exceed net.core.[rw]mem_max; we
  // have CAP_NET_RAW at least, often root, so try them first.
  if (setsockopt(fd, SOL_SOCKET, forceOpt, &bytes, sizeof bytes) == 0) return;
  setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes);
}

}  // namespace

bool operator==(const IpAddress& a, const IpAddress& b) {
  return a.family == b.family && memcmp(a.bytes, b.bytes, a.family == 4 ? 4 : 16) == 0;
}

bool ParseIpAddress(const char* text, int family, IpAddress* out) {
  memset(out, 0, sizeof *out);
  out->family = static_cast<uint8_t>(family);
  return inet_pton(family == 6 ? AF_INET6 : AF_INET, text, out->bytes) == 1;
}

size_t FormatIpAddress(const IpAddress& a, char* out) {
  const uint8_t* b = a.bytes;
  if (a.family == 4) return static_cast<size_t>(snprintf(out, 16, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]));
  unsigned g[8];
  for (int i = 0; i < 8; i++) g[i] = (static_cast<unsigned>(b[2 * i]) << 8) | b[2 * i + 1];
  // IPv4-mapped (RFC 5952 §5), as src/wire/address.ts formatIPv6.
  if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff)
    return static_cast<size_t>(snprintf(out, 46, "::ffff:%u.%u.%u.%u", b[12], b[13], b[14], b[15]));
  // The first longest run of two or more zero groups becomes "::" (RFC 5952 §4.2).
  int bestStart = -1, bestLen = 1;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      i++;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  size_t n = 0;
  for (int i = 0; i < 8; i++) {
    if (i == bestStart) {
      out[n++] = ':';
      out[n++] = ':';
      i += bestLen - 1;
      continue;
    }
    if (n > 0 && out[n - 1] != ':') out[n++] = ':';
    n += static_cast<size_t>(snprintf(out + n, 5, "%x", g[i]));
  }
  out[n] = '\0';
  return n;
}

int RawSocket::Open(int family, size_t batch, size_t maxPacket, int rcvbuf, int sndbuf, const char** syscall) {
  Close();
  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_SCTP);
  if (fd < 0) {
    *syscall = "socket";
    return errno;
  }
  int one = 1;
  int rc;
  if (family == 6) {
    // The IPv6 header is not delivered: the destination, interface and hop
    // limit come as control messages.
    rc = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    if (rc == 0) rc = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
  } else {
    // The IPv4 header is delivered (destination, TTL); IP_PKTINFO adds the interface.
    rc = setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
  }
  if (rc == 0) rc = setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
  if (rc != 0) {
    int e = errno;
    close(fd);
    *syscall = "setsockopt";
    return e;
  }
  SetBuffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf);
  SetBuffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, sndbuf);
  fd_ = fd;
  family_ = family;
  batch_ = batch;
  maxPacket_ = maxPacket;
  arena_.reset(new uint8_t[batch * maxPacket]);
  control_.assign(batch * kControlSpace, 0);
  names_.assign(batch * sizeof(sockaddr_storage), 0);
  rmsgs_.assign(batch, mmsghdr{});
  riov_.assign(batch, iovec{});
  packets_.reserve(batch);
  stats_ = RawSocketStats{};
  lastOverflow_ = 0;
  return 0;
}

void RawSocket::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  arena_.reset();
}

bool RawSocket::IsLocal(const IpAddress& a) const {
  for (const IpAddress& l : local_)
    if (l == a) return true;
  return false;
}

int RawSocket::Receive() {
  packets_.clear();
  if (fd_ < 0) return -EBADF;
  for (size_t i = 0; i < batch_; i++) {
    riov_[i].iov_base = arena_.get() + i * maxPacket_;
    riov_[i].iov_len = maxPacket_;
    msghdr& h = rmsgs_[i].msg_hdr;
    h.msg_name = names_.data() + i * sizeof(sockaddr_storage);
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_iov = &riov_[i];
    h.msg_iovlen = 1;
    h.msg_control = control_.data() + i * kControlSpace;
    h.msg_controllen = kControlSpace;
    h.msg_flags = 0;
    rmsgs_[i].msg_len = 0;
  }
  int n = recvmmsg(fd_, rmsgs_.data(), static_cast<unsigned>(batch_), MSG_DONTWAIT, nullptr);
  if (n < 0) {
    int e = errno;
    if (e == EAGAIN || e == EWOULDBLOCK) return -EAGAIN;
    if (e == EINTR) return 0;
    stats_.receiveErrors++;
    stats_.lastReceiveErrno = e;
    return -e;
  }
  for (int i = 0; i < n; i++) {
    msghdr& h = rmsgs_[i].msg_hdr;
    uint8_t* data = arena_.get() + static_cast<size_t>(i) * maxPacket_;
    size_t len = rmsgs_[i].msg_len;
    ReceivedPacket p{};
    bool haveDestination = false;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
        uint32_t drops;
        memcpy(&drops, CMSG_DATA(c), sizeof drops);
        // A running total since the socket opened (modulo 2^32).
        stats_.kernelDrops += static_cast<uint32_t>(drops - lastOverflow_);
        lastOverflow_ = drops;
      } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo info;
        memcpy(&info, CMSG_DATA(c), sizeof info);
        p.ifindex = static_cast<uint32_t>(info.ipi_ifindex);
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo info;
        memcpy(&info, CMSG_DATA(c), sizeof info);
        p.ifindex = info.ipi6_ifindex;
        p.destination.family = 6;
        memcpy(p.destination.bytes, &info.ipi6_addr, 16);
        haveDestination = true;
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
        int hops;
        memcpy(&hops, CMSG_DATA(c), sizeof hops);
        p.ttl = static_cast<uint32_t>(hops);
      }
    }
    if (h.msg_flags & MSG_TRUNC) {
      stats_.truncated++;
      continue;
    }
    if (family_ == 4) {
      // Linux hands raw IPv4 sockets the whole datagram, header in network
      // byte order, reassembled if it was fragmented.
      size_t ihl = len >= 1 ? static_cast<size_t>(data[0] & 0x0f) * 4 : 0;
      if (len < 20 || (data[0] >> 4) != 4 || ihl < 20 || ihl > len) {
        stats_.malformed++;
        continue;
      }
      p.ttl = data[8];
      p.source.family = 4;
      memcpy(p.source.bytes, data + 12, 4);
      p.destination.family = 4;
      memcpy(p.destination.bytes, data + 16, 4);
      p.data = data + ihl;
      p.length = static_cast<uint32_t>(len - ihl);
    } else {
      const sockaddr_in6* from = static_cast<const sockaddr_in6*>(h.msg_name);
      if (!haveDestination || h.msg_namelen < sizeof(sockaddr_in6) || from->sin6_family != AF_INET6) {
        stats_.malformed++;
        continue;
      }
      p.source.family = 6;
      memcpy(p.source.bytes, &from->sin6_addr, 16);
      p.data = data;
      p.length = static_cast<uint32_t>(len);
    }
    if (!local_.empty() && !IsLocal(p.destination)) {
      stats_.filtered++;
      continue;
    }
    stats_.packetsIn++;
    stats_.bytesIn += p.length;
    packets_.push_back(p);
  }
  return static_cast<int>(packets_.size());
}

size_t RawSocket::Send(size_t count, const uint8_t* const* data, const size_t* length, const IpAddress* source,
                       const IpAddress* destination) {
  if (fd_ < 0) {
    stats_.sendErrors += static_cast<double>(count);
    stats_.lastSendErrno = EBADF;
    return count;
  }
  size_t failed = 0;
  const size_t chunk = count < kSendChunk ? count : kSendChunk;
  if (smsgs_.size() < chunk) {
    smsgs_.resize(chunk);
    siov_.resize(chunk);
    snames_.resize(chunk * sizeof(sockaddr_storage));
    scontrol_.resize(chunk * kControlSpace);
  }
  const uint8_t wantFamily = static_cast<uint8_t>(family_);
  for (size_t base = 0; base < count; base += chunk) {
    const size_t end = base + chunk < count ? base + chunk : count;
    size_t built = 0;
    for (size_t k = base; k < end; k++) {
      if (destination[k].family != wantFamily || (source[k].family != 0 && source[k].family != wantFamily)) {
        failed++;
        stats_.sendErrors++;
        stats_.lastSendErrno = EAFNOSUPPORT;
        continue;
      }
      msghdr& h = smsgs_[built].msg_hdr;
      memset(&h, 0, sizeof h);
      siov_[built].iov_base = const_cast<uint8_t*>(data[k]);
      siov_[built].iov_len = length[k];
      h.msg_iov = &siov_[built];
      h.msg_iovlen = 1;
      void* name = snames_.data() + built * sizeof(sockaddr_storage);
      uint8_t* control = scontrol_.data() + built * kControlSpace;
      memset(name, 0, sizeof(sockaddr_storage));
      h.msg_name = name;
      const bool withSource = source[k].family != 0;
      if (family_ == 4) {
        sockaddr_in* to = static_cast<sockaddr_in*>(name);
        to->sin_family = AF_INET;
        memcpy(&to->sin_addr, destination[k].bytes, 4);
        h.msg_namelen = sizeof(sockaddr_in);
        if (withSource) {
          // ipi_spec_dst is the source address of the datagram (ip(7)); the
          // kernel refuses an address that is not local (EINVAL).
          h.msg_control = control;
          h.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
          memset(control, 0, h.msg_controllen);
          cmsghdr* c = CMSG_FIRSTHDR(&h);
          c->cmsg_level = IPPROTO_IP;
          c->cmsg_type = IP_PKTINFO;
          c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
          in_pktinfo info{};
          memcpy(&info.ipi_spec_dst, source[k].bytes, 4);
          memcpy(CMSG_DATA(c), &info, sizeof info);
        }
      } else {
        sockaddr_in6* to = static_cast<sockaddr_in6*>(name);
        to->sin6_family = AF_INET6;
        memcpy(&to->sin6_addr, destination[k].bytes, 16);
        h.msg_namelen = sizeof(sockaddr_in6);
        if (withSource) {
          h.msg_control = control;
          h.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
          memset(control, 0, h.msg_controllen);
          cmsghdr* c = CMSG_FIRSTHDR(&h);
          c->cmsg_level = IPPROTO_IPV6;
          c->cmsg_type = IPV6_PKTINFO;
          c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
          in6_pktinfo info{};
          memcpy(&info.ipi6_addr, source[k].bytes, 16);
          memcpy(CMSG_DATA(c), &info, sizeof info);
        }
      }
      smsgs_[built].msg_len = 0;
      built++;
    }
    // sendmmsg stops at the first message that fails and reports only how many
    // went before it; that message is counted as failed and skipped.
    size_t i = 0;
    int interrupted = 0;
    while (i < built) {
      int r = sendmmsg(fd_, smsgs_.data() + i, static_cast<unsigned>(built - i), MSG_DONTWAIT);
      if (r < 0) {
        int e = errno;
        if (e == EINTR && ++interrupted < 3) continue;
        failed++;
        stats_.sendErrors++;
        stats_.lastSendErrno = e;
        i++;
        continue;
      }
      if (r == 0) {  // not expected for a non-empty vector; do not spin
        failed += built - i;
        stats_.sendErrors += static_cast<double>(built - i);
        break;
      }
      for (size_t k = i; k < i + static_cast<size_t>(r); k++) {
        stats_.packetsOut++;
        stats_.bytesOut += smsgs_[k].msg_len;
      }
      i += static_cast<size_t>(r);
    }
  }
  return failed;
}

bool SctpKernelModuleLoaded() { return access("/sys/module/sctp", F_OK) == 0 || access("/proc/net/sctp", F_OK) == 0; }

}  // namespace hasctp
