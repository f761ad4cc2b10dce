// Reload the status page every 60 s and keep the reader's scroll position across it.
(function(){var k="probed-scroll",y=sessionStorage.getItem(k);if(y!==null){sessionStorage.removeItem(k);scrollTo(0,+y)}
setTimeout(function(){sessionStorage.setItem(k,String(scrollY));location.reload()},60000)})();
// The day bars the HTML leaves short (see page_parts.Bars): a run such as class "a12" (twelve
// perfect days) or "n30" (thirty days of no data) becomes one <i> per day, and every day
// without a title gets one, its date from the row's data-first date and its position, the
// rest from its class ("a" is 100 % up with no downtime, no class is no data).
(function(){var rows=document.querySelectorAll(".bars[data-first]");
for(var r=0;r<rows.length;r++){var row=rows[r],t=Date.parse(row.getAttribute("data-first")+"T00:00:00Z"),b=row.children;
for(var i=0;i<b.length;i++){var m=/^([an])(\d+)$/.exec(b[i].className);if(!m)continue;
var f=document.createDocumentFragment();for(var j=0;j<+m[2];j++){var e=document.createElement("i");if(m[1]==="a")e.className="a";f.appendChild(e)}
row.replaceChild(f,b[i]);i+=+m[2]-1}
for(i=0;i<b.length;i++){if(b[i].hasAttribute("title"))continue;
b[i].title=new Date(t+i*864e5).toISOString().slice(0,10)+(b[i].className==="a"?": 100% up, no downtime":": no data")}}})();
