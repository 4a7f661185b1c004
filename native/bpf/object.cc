// BpfObject: one BPF ELF object (open -> configure -> load -> attach), and BpfLink: one
// attachment. Both own their libbpf handles and release them in their destructors (or on an
// explicit close/destroy, whichever comes first).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstring>
#include <memory>

#include "bpf/common.h"
#include "bpf/map.h"

namespace alpsbpf {

struct ObjDeleter {
  void operator()(bpf_object* o) const { bpf_object__close(o); }
};
struct LinkDeleter {
  void operator()(bpf_link* l) const { bpf_link__destroy(l); }
};

class BpfLink : public Napi::ObjectWrap<BpfLink> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "BpfLink",
                       {InstanceMethod("destroy", &BpfLink::Destroy), InstanceAccessor("fd", &BpfLink::Fd, nullptr)});
  }
  explicit BpfLink(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfLink>(info) {}
  void adopt(bpf_link* l) { link_.reset(l); }

 private:
  void Destroy(const Napi::CallbackInfo&) { link_.reset(); }
  Napi::Value Fd(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), link_ ? bpf_link__fd(link_.get()) : -1);
  }
  std::unique_ptr<bpf_link, LinkDeleter> link_;
};

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "BpfObject",
                       {InstanceMethod("load", &BpfObject::Load), InstanceMethod("programs", &BpfObject::Programs),
                        InstanceMethod("maps", &BpfObject::Maps), InstanceMethod("map", &BpfObject::Map),
                        InstanceMethod("reuseMap", &BpfObject::ReuseMap),
                        InstanceMethod("setAutoload", &BpfObject::SetAutoload),
                        InstanceMethod("structOpsData", &BpfObject::StructOpsData),
                        InstanceMethod("attachProgram", &BpfObject::AttachProgram),
                        InstanceMethod("attachStructOps", &BpfObject::AttachStructOps),
                        InstanceMethod("close", &BpfObject::Close)});
  }

  // new BpfObject(path[, {pinRoot}]): bpf_object__open_file.
  explicit BpfObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfObject>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "BpfObject(path[, opts])");
    path_ = info[0].As<Napi::String>().Utf8Value();
    std::string pinRoot;
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Value pr = info[1].As<Napi::Object>().Get("pinRoot");
      if (pr.IsString()) pinRoot = pr.As<Napi::String>().Utf8Value();
    }
    LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pinRoot.empty() ? nullptr : pinRoot.c_str());
    logBegin();
    bpf_object* o = bpf_object__open_file(path_.c_str(), &opts);
    int err = o ? 0 : errno;
    std::string log = logTake();
    if (!o) throwErr(env, "open " + path_, err, log);
    obj_.reset(o);
  }

 private:
  bpf_object* need(Napi::Env env) {
    if (!obj_) throw Napi::Error::New(env, "BpfObject " + path_ + ": closed");
    return obj_.get();
  }
  bpf_map* findMap(Napi::Env env, const Napi::Value& v) {
    std::string name = v.As<Napi::String>().Utf8Value();
    bpf_map* m = bpf_object__find_map_by_name(need(env), name.c_str());
    if (!m) throwErr(env, path_ + ": no map named '" + name + "'", ENOENT);
    return m;
  }
  bpf_program* findProg(Napi::Env env, const Napi::Value& v) {
    std::string name = v.As<Napi::String>().Utf8Value();
    bpf_program* p = bpf_object__find_program_by_name(need(env), name.c_str());
    if (!p) throwErr(env, path_ + ": no program named '" + name + "'", ENOENT);
    return p;
  }

  // load(): creates maps, runs the verifier. The error carries libbpf's log (verifier output).
  void Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    logBegin();
    int err = bpf_object__load(need(env));
    std::string log = logTake();
    if (err) throwErr(env, "load " + path_, -err, log);
  }

  Napi::Value Programs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    uint32_t i = 0;
    bpf_program* p;
    bpf_object__for_each_program(p, need(env)) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", bpf_program__name(p));
      o.Set("section", bpf_program__section_name(p));
      o.Set("fd", bpf_program__fd(p));
      o.Set("type", static_cast<uint32_t>(bpf_program__type(p)));
      o.Set("autoload", bpf_program__autoload(p));
      out.Set(i++, o);
    }
    return out;
  }

  Napi::Value Maps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    uint32_t i = 0;
    bpf_map* m;
    bpf_object__for_each_map(m, need(env)) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", bpf_map__name(m));
      o.Set("type", static_cast<uint32_t>(bpf_map__type(m)));
      o.Set("keySize", bpf_map__key_size(m));
      o.Set("valueSize", bpf_map__value_size(m));
      o.Set("maxEntries", bpf_map__max_entries(m));
      o.Set("fd", bpf_map__fd(m));
      out.Set(i++, o);
    }
    return out;
  }

  // map(name) -> BpfMap over a dup of the loaded map's fd.
  Napi::Value Map(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bpf_map* m = findMap(env, info[0]);
    int fd = bpf_map__fd(m);
    if (fd < 0) throwErr(env, "map " + std::string(bpf_map__name(m)) + ": not loaded yet", EINVAL);
    return BpfMap::Create(env, fd, bpf_map__name(m));
  }

  // reuseMap(name, BpfMap): before load, make this object use an existing map (shared tags).
  void ReuseMap(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bpf_map* m = findMap(env, info[0]);
    BpfMap* other = BpfMap::Unwrap(info[1].As<Napi::Object>());
    int err = bpf_map__reuse_fd(m, other->fd());
    if (err) throwErr(env, "reuse map " + std::string(bpf_map__name(m)), -err);
  }

  void SetAutoload(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bpf_program* p = findProg(env, info[0]);
    int err = bpf_program__set_autoload(p, info[1].As<Napi::Boolean>().Value());
    if (err) throwErr(env, "autoload " + std::string(bpf_program__name(p)), -err);
  }

  // structOpsData(mapName): a Buffer *copy* of the struct_ops map's initial value, or with a
  // second Buffer argument, overwrite it (before load) — how data fields such as timeout_ms
  // are configured. Layout = the kernel's struct (sched_ext_ops), so callers patch known
  // offsets only.
  Napi::Value StructOpsData(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bpf_map* m = findMap(env, info[0]);
    size_t sz = 0;
    void* data = bpf_map__initial_value(m, &sz);
    if (!data) throwErr(env, "struct_ops data of " + std::string(bpf_map__name(m)), EINVAL);
    if (info.Length() > 1) {
      auto [p, n] = bytesArg(info[1], "data", sz);
      (void)n;
      std::memcpy(data, p, sz);
      return env.Undefined();
    }
    return Napi::Buffer<uint8_t>::Copy(env, static_cast<uint8_t*>(data), sz);
  }

  Napi::Value wrapLink(Napi::Env env, bpf_link* l) {
    auto* data = env.GetInstanceData<AddonData>();
    Napi::Object o = data->linkCtor.New({});
    BpfLink::Unwrap(o)->adopt(l);
    return o;
  }

  // attachProgram(name): auto-attach by section (tp_btf, fentry, raw_tp, ...).
  Napi::Value AttachProgram(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bpf_program* p = findProg(env, info[0]);
    logBegin();
    bpf_link* l = bpf_program__attach(p);
    int err = l ? 0 : errno;
    std::string log = logTake();
    if (!l) throwErr(env, "attach " + std::string(bpf_program__name(p)), err, log);
    return wrapLink(env, l);
  }

  // attachStructOps(mapName): registers a struct_ops (e.g. a sched_ext scheduler).
  Napi::Value AttachStructOps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bpf_map* m = findMap(env, info[0]);
    logBegin();
    bpf_link* l = bpf_map__attach_struct_ops(m);
    int err = l ? 0 : errno;
    std::string log = logTake();
    if (!l) throwErr(env, "attach struct_ops " + std::string(bpf_map__name(m)), err, log);
    return wrapLink(env, l);
  }

  void Close(const Napi::CallbackInfo&) { obj_.reset(); }

  std::string path_;
  std::unique_ptr<bpf_object, ObjDeleter> obj_;
};

Napi::Function initObject(Napi::Env env) { return BpfObject::Init(env); }
Napi::Function initLink(Napi::Env env) { return BpfLink::Init(env); }

}  // namespace alpsbpf
