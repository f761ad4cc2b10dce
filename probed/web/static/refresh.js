// Reload the status page every 60 s and keep the reader's scroll position across it.
(function(){var k="probed-scroll",y=sessionStorage.getItem(k);if(y!==null){sessionStorage.removeItem(k);scrollTo(0,+y)}
setTimeout(function(){sessionStorage.setItem(k,String(scrollY));location.reload()},60000)})();
// The tooltips of perfect and no-data days, which the HTML leaves out to stay small (see
// page_parts.Bars): the date from the row's first date and the bar's position, the rest from
// its class ("a" is 100 % up with no downtime, no class is no data).
(function(){var rows=document.querySelectorAll(".bars[data-first]");
for(var r=0;r<rows.length;r++){var t=Date.parse(rows[r].getAttribute("data-first")+"T00:00:00Z"),b=rows[r].children;
for(var i=0;i<b.length;i++){if(b[i].hasAttribute("title"))continue;
var d=new Date(t+i*864e5).toISOString().slice(0,10);
b[i].title=d+(b[i].className==="a"?": 100% up, no downtime":": no data")}}})();
