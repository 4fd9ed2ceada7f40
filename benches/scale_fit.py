"""Per-stage time and peak memory of `embedscope audit` at several sizes, with fitted exponents.
Usage: scale_fit.py DIR N [N ...]   (DIR holds aN.json and aN.log from benches/scale_audit.sh;
PREFIX=ah reads ahN.json, the float16 runs)."""
import json, math, os, sys, re
d=sys.argv[1]; sizes=[int(x) for x in sys.argv[2:]]
pre=os.environ.get('PREFIX', 'a')
runs={n: json.load(open(f'{d}/{pre}{n}.json')) for n in sizes}
tot={}
for n in sizes:
    log=open(f'{d}/{pre}{n}.log').read()
    m=re.search(r'([\d.]+) s (\d+) KB', log)
    peak=max(t.get('peak_mib') or 0 for t in runs[n]['timings'])/1024
    tot[n]=(float(m.group(1)), peak)
stages=[t['stage'] for t in runs[sizes[0]]['timings'] if 'nprobe' not in t['stage'] and 'exact search' not in t['stage'] and 'index build' not in t['stage']]
def get(n, st):
    for t in runs[n]['timings']:
        if t['stage']==st or (st.startswith('retrieval: index build') and t['stage'].startswith('retrieval: index build')): return t
    return None
def fit(xs, ys):
    pts=[(math.log(x), math.log(y)) for x,y in zip(xs,ys) if y and y>0]
    if len(pts)<2: return float('nan')
    mx=sum(p[0] for p in pts)/len(pts); my=sum(p[1] for p in pts)/len(pts)
    return sum((p[0]-mx)*(p[1]-my) for p in pts)/sum((p[0]-mx)**2 for p in pts)
hdr='| stage | '+' | '.join(f'{n//1000}k: s / peak MiB' for n in sizes)+' | time exponent | memory exponent |'
print(hdr); print('|'+'---|'*(len(sizes)+3))
for st in stages:
    ts=[get(n,st) for n in sizes]
    if any(t is None for t in ts): continue
    secs=[t['seconds'] for t in ts]; peaks=[t.get('peak_mib') for t in ts]
    if max(secs)<0.05: continue
    cells=' | '.join(f"{s:.1f} / {p:.0f}" for s,p in zip(secs,peaks))
    print(f"| {st} | {cells} | {fit(sizes,secs):.2f} | {fit(sizes,peaks):.2f} |")
cells=' | '.join(f"{tot[n][0]:.0f} s / {tot[n][1]*1024:.0f}" for n in sizes)
print(f"| **whole `audit`** (wall, process peak) | {cells} | {fit(sizes,[tot[n][0] for n in sizes]):.2f} | {fit(sizes,[tot[n][1] for n in sizes]):.2f} |")
