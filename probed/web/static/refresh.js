// Reload the status page every 60 s and keep the reader's scroll position across it.
(function(){var k="probed-scroll",y=sessionStorage.getItem(k);if(y!==null){sessionStorage.removeItem(k);scrollTo(0,+y)}
setTimeout(function(){sessionStorage.setItem(k,String(scrollY));location.reload()},60000)})();
// The day bars (see page_parts.PageParts.bars): the HTML has only days with downtime, placed
// by class ("e37": column 37) with their ratio and downtime as a title, and runs of days
// without data ("n1 w30"); every other day was perfect. Make one bar per day, each with its
// full tooltip, the date from <main data-first> and the day's position.
(function(){var first=document.querySelector("main[data-first]");if(!first)return;
var t=Date.parse(first.getAttribute("data-first")+"T00:00:00Z"),rows=document.querySelectorAll(".u");
for(var r=0;r<rows.length;r++){var row=rows[r],kind=[],title=[],b=row.children,i,m;
for(i=0;i<90;i++){kind.push("a");title.push("100% up, no downtime")}
for(i=0;i<b.length;i++){m=/^([bcen])(\d+)(?: w(\d+))?$/.exec(b[i].className);if(!m)continue;
for(var j=+m[2]-1,n=j+(+m[3]||1);j<n&&j<90;j++){kind[j]=m[1];title[j]=m[1]==="n"?"no data":b[i].title}}
var f=document.createDocumentFragment();
for(i=0;i<90;i++){var e=document.createElement("i");e.className=kind[i];e.title=new Date(t+i*864e5).toISOString().slice(0,10)+": "+title[i];f.appendChild(e)}
row.textContent="";row.appendChild(f);row.className+=" js"}})();
